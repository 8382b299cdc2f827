import type { IncomingMessage, ServerResponse } from 'node:http';
import { toGatewayError } from '../core/errors.ts';
import { countTokens } from '../api/anthropic/count-tokens.ts';
import { readJsonBody } from './body.ts';
import { sendError, sendJson } from './respond.ts';

// POST /v1/messages/count_tokens, answered locally with a tokenizer estimate (see
// src/api/anthropic/count-tokens.ts for how it is computed), in Anthropic's shape.

export const COUNT_TOKENS = '/v1/messages/count_tokens';

export async function countTokensLocally(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<void> {
  try {
    const body = await readJsonBody(req, limit);
    sendJson(res, 200, JSON.stringify(countTokens(body)));
  } catch (err) {
    sendError(res, toGatewayError(err), { surface: 'anthropic', close: !req.complete });
  }
}
