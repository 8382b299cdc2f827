import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatewayError, toGatewayError } from '../core/errors.ts';
import { requestIdFrom } from '../core/ids.ts';
import { countTokens } from '../api/anthropic/count-tokens.ts';
import type { Runtime } from '../config/runtime.ts';
import { route, pickTarget } from '../routing/router.ts';
import { anthropicCountTokensRequest } from '../translators/anthropic-passthrough.ts';
import { ExchangeDeadline } from '../upstream/deadline.ts';
import { readBody, sendUpstream } from '../upstream/exchange.ts';
import { readJsonBody } from './body.ts';
import { createContext } from './context.ts';
import { sendError, sendJson } from './respond.ts';

// POST /v1/messages/count_tokens, in Anthropic's shape. When the model's target is an Anthropic provider
// the request is forwarded to it (with the provider's key) and its answer relayed; otherwise it is
// answered locally with a tokenizer estimate (see src/api/anthropic/count-tokens.ts). The route's auth
// policies run first, so a governed gateway does not answer strangers; limits and the ledger do not apply.

export const COUNT_TOKENS = '/v1/messages/count_tokens';

export async function countTokensRequest(
  runtime: Runtime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const abort = new AbortController();
  res.on('close', () =>
    abort.abort(new GatewayError('request_timeout', 'The client closed the connection.')),
  );
  try {
    const body = await readJsonBody(req, runtime.config.server.limits.body);
    const id = requestIdFrom(req.headers[runtime.config.server.request_id_header]);
    const ctx = createContext({
      id,
      api: 'messages',
      req,
      body,
      startedAt: performance.now(),
      signal: abort.signal,
      debug: false,
    });
    if (ctx.requestedModel === '')
      throw new GatewayError('invalid_request', "The request must name a model in the 'model' field.", {
        param: 'model',
      });
    const decision = route(runtime, ctx);
    for (const policy of decision.pipeline.onRequest)
      if (policy.type === 'auth') await policy.onRequest!(ctx);
    const target = pickTarget(decision.model, ctx);
    const provider = target.provider;
    if (provider.type !== 'anthropic') return sendJson(res, 200, JSON.stringify(countTokens(body)));
    const up = anthropicCountTokensRequest({
      api: 'messages',
      body,
      model: target.upstreamModel,
      stream: false,
      clientWantsUsage: false,
    });
    const headers: Record<string, string> = { 'content-type': 'application/json', ...up.headers };
    for (const name of ['anthropic-version', 'anthropic-beta']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const out = { path: provider.path(up.path, target.upstreamModel), body: up.body, headers };
    provider.authorize(out);
    const deadline = new ExchangeDeadline(abort.signal, provider.timeouts);
    try {
      const upstream = await sendUpstream(
        await provider.endpoint(ctx),
        out,
        deadline,
        provider.timeouts.firstByteMs,
      );
      const answer = await readBody(upstream, deadline);
      sendJson(res, upstream.statusCode, answer);
    } finally {
      deadline.clear();
    }
  } catch (err) {
    sendError(res, toGatewayError(err), { surface: 'anthropic', close: !req.complete });
  }
}
