import { GatewayError } from '../core/errors.ts';
import type { JsonObject } from '../contracts/request.ts';
import { invalid } from './openai-chat-request.ts';
import type { GeminiEmbedResponse } from './gemini-types.ts';

// OpenAI /embeddings ↔ Gemini models.batchEmbedContents: one EmbedContentRequest per input string.
// Gemini reports no token counts for embeddings, so usage is left to the gateway's local estimate.

function inputs(body: JsonObject): string[] {
  const { input } = body;
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((item) => typeof item === 'string'))
    return input;
  throw invalid('this provider accepts embedding input as a string or an array of strings', 'input');
}

/** The batchEmbedContents body; `model` is the "models/…" resource name. */
export function geminiEmbedRequest(body: JsonObject, model: string): string {
  const dimensions = typeof body.dimensions === 'number' ? { outputDimensionality: body.dimensions } : {};
  const requests = inputs(body).map((text) => ({ model, content: { parts: [{ text }] }, ...dimensions }));
  return JSON.stringify({ requests });
}

function base64(values: readonly number[]): string {
  const floats = Float32Array.from(values);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

export function geminiEmbedResponse(
  body: Buffer,
  input: { readonly body: JsonObject; readonly model: string },
): string {
  let parsed: GeminiEmbedResponse;
  try {
    parsed = JSON.parse(body.toString('utf8')) as GeminiEmbedResponse;
  } catch (cause) {
    throw new GatewayError('upstream_error', 'The upstream provider returned an unreadable response.', {
      cause,
    });
  }
  const asBase64 = input.body.encoding_format === 'base64';
  const data = (parsed.embeddings ?? []).map((embedding, index) => {
    const values = embedding.values ?? [];
    return { object: 'embedding', index, embedding: asBase64 ? base64(values) : values };
  });
  return JSON.stringify({ object: 'list', data, model: input.model });
}
