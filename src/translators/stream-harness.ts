import type { JsonObject } from '../contracts/request.ts';
import type { StreamTranslator, TranslateInput, Translator } from '../contracts/translator.ts';

// Test support for stream translators: feed upstream chunks, read back the client's chat.completion.chunk
// frames, and cut byte streams at arbitrary points for the split-invariance property tests.

export interface StreamRun {
  /** Every byte the client received, push() and end() output concatenated. */
  readonly out: string;
  readonly stream: StreamTranslator;
}

export function runStream(
  translator: Translator,
  input: TranslateInput,
  chunks: readonly (string | Buffer)[],
): StreamRun {
  const stream = translator.stream(input);
  let out = '';
  for (const chunk of chunks) {
    const bytes = stream.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (bytes !== null) out += bytes.toString();
  }
  const tail = stream.end();
  if (tail !== null) out += tail.toString();
  return { out, stream };
}

/** The client frames: parsed chunk objects, or '[DONE]'. */
export function clientFrames(out: string): (JsonObject | '[DONE]')[] {
  return out
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => {
      if (!frame.startsWith('data: ')) throw new Error(`not an SSE data frame: ${frame}`);
      return frame === 'data: [DONE]' ? '[DONE]' : (JSON.parse(frame.slice(6)) as JsonObject);
    });
}

/** [delta, finish_reason] of every choice in every chunk, in order. */
export function choiceDeltas(out: string): [unknown, unknown][] {
  return clientFrames(out).flatMap((frame) =>
    frame === '[DONE]'
      ? []
      : (frame.choices as JsonObject[]).map((choice): [unknown, unknown] => [
          choice.delta,
          choice.finish_reason,
        ]),
  );
}

/** Replace the per-stream id and timestamp so outputs of two runs compare equal. */
export function normaliseIds(out: string): string {
  return out.replace(/chatcmpl-[0-9a-f]+/g, 'chatcmpl-ID').replace(/"created":\d+/g, '"created":0');
}

/** Cut bytes at the given offsets (any order, duplicates ignored). */
export function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}
