import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../core/errors.ts';
import type { JsonObject } from '../contracts/request.ts';

// Reading a JSON request body: content type checked first, the declared length checked before reading,
// the actual size checked while reading (a chunked body cannot get past the limit), then one JSON.parse.

function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true; // many scripts omit it; the body still has to parse
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

export async function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonObject> {
  if (!isJsonType(req.headers['content-type'])) {
    throw new GatewayError(
      'unsupported_media_type',
      `Expected a JSON body (Content-Type: application/json), got '${req.headers['content-type']}'.`,
    );
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new GatewayError('payload_too_large', `The request body is larger than the ${limit}-byte limit.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit)
      throw new GatewayError('payload_too_large', `The request body is larger than the ${limit}-byte limit.`);
    chunks.push(chunk);
  }
  const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    const detail = err instanceof SyntaxError ? `: ${err.message}` : '';
    throw new GatewayError('invalid_json', `The request body is not valid JSON${detail}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new GatewayError('invalid_request', 'The request body must be a JSON object.');
  }
  return parsed as JsonObject;
}
