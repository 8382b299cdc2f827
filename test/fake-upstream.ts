import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

// A programmable OpenAI-compatible upstream for tests. Each request is recorded; its answer is the next
// scripted reply for its path, or a default chat/completions/embeddings answer. Replies can set status,
// JSON or SSE frames, delays before headers and between frames, and a cut mid-stream.

export interface ScriptedReply {
  status?: number;
  headers?: Record<string, string>;
  json?: unknown;
  /** SSE data payloads (objects are JSON-encoded; strings sent as-is, e.g. '[DONE]'). */
  sse?: unknown[];
  delayMs?: number;
  frameDelayMs?: number;
  /** Destroy the socket after this many SSE frames. */
  cutAfter?: number;
  /** Raw body. */
  raw?: string;
  /** Raw chunks written one by one (other wire formats: Anthropic or Gemini SSE, AWS event streams). */
  chunks?: (string | Buffer)[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  aborted: boolean;
  abortedAt: number | null;
  /** SSE frames written so far (the writer waits for 'drain', so this shows back-pressure). */
  framesWritten: number;
}

export interface FakeUpstream {
  url: string;
  origin: string;
  requests: RecordedRequest[];
  script(path: string, ...replies: ScriptedReply[]): void;
  close(): Promise<void>;
}

export function chatCompletion(model: string, content = 'Hello from the fake upstream.'): any {
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
  };
}

export function chatChunks(model: string, words: string[], includeUsage: boolean): unknown[] {
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1700000000, model };
  const frames: unknown[] = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
  ];
  for (const w of words)
    frames.push({ ...base, choices: [{ index: 0, delta: { content: w }, finish_reason: null }] });
  frames.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  if (includeUsage)
    frames.push({
      ...base,
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: words.length, total_tokens: 5 + words.length },
    });
  frames.push('[DONE]');
  return frames;
}

function defaultReply(path: string, body: any): ScriptedReply {
  const model = typeof body?.model === 'string' ? body.model : 'unknown';
  if (path.endsWith('/chat/completions')) {
    if (body?.stream === true)
      return {
        sse: chatChunks(model, ['Hello', ' there', '!'], body?.stream_options?.include_usage === true),
      };
    return { json: chatCompletion(model) };
  }
  if (path.endsWith('/completions')) {
    return {
      json: {
        id: 'cmpl-fake',
        object: 'text_completion',
        created: 1700000000,
        model,
        choices: [{ index: 0, text: ' world', finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
      },
    };
  }
  if (path.endsWith('/embeddings')) {
    const inputs = Array.isArray(body?.input) ? body.input : [body?.input];
    return {
      json: {
        object: 'list',
        model,
        data: inputs.map((_: unknown, index: number) => ({
          object: 'embedding',
          index,
          embedding: [0.1, 0.2, 0.3],
        })),
        usage: { prompt_tokens: 4, total_tokens: 4 },
      },
    };
  }
  return {
    status: 404,
    json: { error: { message: 'not found', type: 'invalid_request_error', code: null, param: null } },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function reply(res: ServerResponse, r: ScriptedReply, rec: RecordedRequest): Promise<void> {
  if (r.delayMs) await sleep(r.delayMs);
  if (r.chunks !== undefined) {
    res.writeHead(r.status ?? 200, { 'content-type': 'text/event-stream', ...r.headers });
    for (const chunk of r.chunks) {
      if (res.destroyed) return;
      res.write(chunk);
      if (r.frameDelayMs) await sleep(r.frameDelayMs);
    }
    res.end();
    return;
  }
  if (r.sse !== undefined) {
    res.writeHead(r.status ?? 200, { 'content-type': 'text/event-stream', ...r.headers });
    let n = 0;
    for (const frame of r.sse) {
      if (res.destroyed) return;
      if (r.cutAfter !== undefined && n >= r.cutAfter) {
        res.socket?.destroy();
        return;
      }
      const ok = res.write(`data: ${typeof frame === 'string' ? frame : JSON.stringify(frame)}\n\n`);
      n++;
      rec.framesWritten = n;
      if (!ok) await new Promise((resolve) => (res.once('drain', resolve), res.once('close', resolve)));
      if (r.frameDelayMs) await sleep(r.frameDelayMs);
    }
    res.end();
    return;
  }
  const body = r.raw ?? JSON.stringify(r.json ?? {});
  res.writeHead(r.status ?? 200, {
    'content-type': r.raw !== undefined ? 'text/plain' : 'application/json',
    ...r.headers,
  });
  res.end(body);
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const scripts = new Map<string, ScriptedReply[]>();
  const requests: RecordedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* keep the raw text */
    }
    const path = req.url ?? '/';
    const rec: RecordedRequest = {
      method: req.method ?? '',
      path,
      headers: req.headers,
      body,
      aborted: false,
      abortedAt: null,
      framesWritten: 0,
    };
    requests.push(rec);
    res.on('close', () => {
      if (!res.writableFinished) {
        rec.aborted = true;
        rec.abortedAt = performance.now();
      }
    });
    const queue = scripts.get(path.split('?')[0]!);
    const scripted =
      queue !== undefined && queue.length > 0 ? queue.shift()! : defaultReply(path.split('?')[0]!, body);
    await reply(res, scripted, rec);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/v1`,
    origin,
    requests,
    script(path, ...replies) {
      scripts.set(path, [...(scripts.get(path) ?? []), ...replies]);
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
}
