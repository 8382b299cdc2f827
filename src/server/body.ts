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

/** Gather the body with listeners (cheaper than an async iterator), failing as soon as it passes `limit`. */
function collect(req: IncomingMessage, limit: number): Promise<{ chunks: Buffer[]; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume(); // discard the rest; the response closes the connection
        reject(
          new GatewayError('payload_too_large', `The request body is larger than the ${limit}-byte limit.`),
        );
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ chunks, size });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.on('error', ignore);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function ignore(): void {}

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
  const { chunks, size } = await collect(req, limit);
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
