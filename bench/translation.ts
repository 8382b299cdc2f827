import { openAIToAnthropic } from '../src/translators/openai-to-anthropic.ts';
import { openAIPassThrough } from '../src/translators/openai-to-openai.ts';
import type { TranslateInput } from '../src/contracts/translator.ts';

// Translation overhead (issue 4): OpenAI→Anthropic against the OpenAI pass-through, in one run. Non-stream:
// µs per request (request mapping + response mapping). Stream: µs per upstream chunk (one SSE event per
// network chunk, as servers flush them), for a 200-token answer.

const TOKENS = 200;
const ROUNDS = Number(process.env.BENCH_TRANSLATION_ROUNDS ?? 2000);
const words = Array.from({ length: TOKENS }, (_, i) => ` word${i}`);

const body = {
  model: 'claude-sonnet-4-5',
  max_tokens: 512,
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Tell me about foxes.' },
  ],
};
const input = (stream: boolean): TranslateInput => ({
  api: 'chat',
  body,
  model: 'm',
  stream,
  clientWantsUsage: false,
});

const ev = (e: Record<string, unknown>): Buffer =>
  Buffer.from(`event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`);
const anthropicChunks: Buffer[] = [
  ev({
    type: 'message_start',
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      content: [],
      model: 'm',
      stop_reason: null,
      usage: { input_tokens: 20, output_tokens: 1 },
    },
  }),
  ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ...words.map((w) => ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } })),
  ev({ type: 'content_block_stop', index: 0 }),
  ev({
    type: 'message_delta',
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: TOKENS },
  }),
  ev({ type: 'message_stop' }),
];
const chunk = (delta: Record<string, unknown>, finish: string | null): Buffer =>
  Buffer.from(
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
  );
const openAIChunks: Buffer[] = [
  chunk({ role: 'assistant', content: '' }, null),
  ...words.map((w) => chunk({ content: w }, null)),
  chunk({}, 'stop'),
  Buffer.from(
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 20, completion_tokens: TOKENS, total_tokens: 20 + TOKENS } })}\n\n`,
  ),
  Buffer.from('data: [DONE]\n\n'),
];
const anthropicMessage = Buffer.from(
  JSON.stringify({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'm',
    content: [{ type: 'text', text: words.join('') }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 20, output_tokens: TOKENS },
  }),
);
const openAICompletion = Buffer.from(
  JSON.stringify({
    id: 'c1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 20, completion_tokens: TOKENS, total_tokens: 20 + TOKENS },
  }),
);

function time(fn: () => void, rounds: number): number {
  for (let i = 0; i < Math.min(200, rounds); i++) fn(); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / rounds; // µs per call
}

export function benchTranslation(): void {
  const passNon = time(() => {
    openAIPassThrough.request(input(false));
    openAIPassThrough.response(openAICompletion, input(false));
  }, ROUNDS * 10);
  const anthNon = time(() => {
    openAIToAnthropic.request(input(false));
    openAIToAnthropic.response(anthropicMessage, input(false));
  }, ROUNDS * 10);
  const passStream =
    time(() => {
      const st = openAIPassThrough.stream(input(true));
      for (const c of openAIChunks) st.push(c);
      st.end();
    }, ROUNDS) / openAIChunks.length;
  const anthStream =
    time(() => {
      const st = openAIToAnthropic.stream(input(true));
      for (const c of anthropicChunks) st.push(c);
      st.end();
    }, ROUNDS) / anthropicChunks.length;
  console.log(
    `translation non-stream  pass-through ${passNon.toFixed(2)} µs/request   openai→anthropic ${anthNon.toFixed(2)} µs/request   (+${(anthNon - passNon).toFixed(2)} µs)`,
  );
  console.log(
    `translation stream      pass-through ${passStream.toFixed(3)} µs/chunk     openai→anthropic ${anthStream.toFixed(3)} µs/chunk`,
  );
  console.log(
    `translation ratio: translated stream CPU per chunk / pass-through ${(anthStream / passStream).toFixed(2)} (target ≤ 1.20)`,
  );
}
