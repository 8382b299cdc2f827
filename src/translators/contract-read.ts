import assert from 'node:assert/strict';
import type { JsonObject } from '../contracts/request.ts';
import { clientFrames } from './stream-harness.ts';

// Test support for the translator contract suite: read what a client receives (a chat.completion, or a
// chat.completion.chunk stream) back into one comparable result, asserting the OpenAI shape on the way.

export interface ChatResult {
  content: string | null;
  reasoning: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: unknown;
  usage: unknown;
}

interface WireToolCall {
  readonly index?: number;
  readonly id?: string;
  readonly type?: string;
  readonly function?: { readonly name?: string; readonly arguments?: string };
}

export function readChatCompletion(text: string): ChatResult {
  const body = JSON.parse(text) as JsonObject;
  assert.equal(body.object, 'chat.completion');
  assert.equal(typeof body.id, 'string');
  assert.equal(typeof body.model, 'string');
  const choices = body.choices as JsonObject[];
  assert.ok(choices.length >= 1, 'a choice');
  const message = choices[0]!.message as JsonObject;
  assert.equal(message.role, 'assistant');
  const calls = (message.tool_calls ?? []) as WireToolCall[];
  return {
    content: message.content as string | null,
    reasoning: typeof message.reasoning_content === 'string' ? message.reasoning_content : '',
    toolCalls: calls.map((call) => {
      assert.equal(call.type, 'function');
      assert.equal(typeof call.function?.arguments, 'string', 'arguments are a JSON string');
      return {
        id: call.id ?? '',
        name: call.function?.name ?? '',
        arguments: call.function?.arguments ?? '',
      };
    }),
    finishReason: choices[0]!.finish_reason,
    usage: body.usage,
  };
}

/** Accumulate a chunk stream the way an OpenAI client does, asserting the stream's invariants. */
export function readChunkStream(out: string): ChatResult {
  const frames = clientFrames(out);
  assert.equal(frames.at(-1), '[DONE]', '[DONE] ends the stream');
  assert.equal(frames.indexOf('[DONE]'), frames.length - 1, 'one [DONE]');
  const result: ChatResult = {
    content: '',
    reasoning: '',
    toolCalls: [],
    finishReason: null,
    usage: undefined,
  };
  let id: unknown;
  let deltas = 0;
  for (const frame of frames.slice(0, -1) as JsonObject[]) {
    assert.equal(frame.object, 'chat.completion.chunk');
    id ??= frame.id;
    assert.equal(frame.id, id, 'one id per stream');
    const choices = frame.choices as JsonObject[];
    if (frame.usage !== undefined && frame.usage !== null) {
      assert.equal(choices.length, 0, 'usage rides a chunk with choices: []');
      assert.equal(frames.indexOf(frame), frames.length - 2, 'the usage chunk comes right before [DONE]');
      result.usage = frame.usage;
    }
    for (const choice of choices) {
      if (choice.index !== 0) continue; // cases compare the first choice
      assert.equal(result.finishReason, null, 'nothing follows finish_reason');
      const delta = choice.delta as JsonObject & { tool_calls?: WireToolCall[] };
      if (deltas++ === 0) assert.equal(delta.role, 'assistant', 'the first delta carries the role');
      if (typeof delta.content === 'string') result.content += delta.content;
      if (typeof delta.reasoning_content === 'string') result.reasoning += delta.reasoning_content;
      for (const call of delta.tool_calls ?? []) {
        assert.equal(typeof call.index, 'number', 'tool_calls[].index');
        const at = result.toolCalls[call.index!];
        if (at === undefined) {
          assert.equal(call.index, result.toolCalls.length, 'tool call indexes are dense');
          assert.equal(typeof call.id, 'string', 'a new tool call carries its id');
          assert.equal(typeof call.function?.name, 'string', 'a new tool call carries its name');
          const args = call.function?.arguments ?? '';
          result.toolCalls.push({ id: call.id!, name: call.function!.name!, arguments: args });
        } else at.arguments += call.function?.arguments ?? '';
      }
      if (choice.finish_reason !== null) result.finishReason = choice.finish_reason;
    }
  }
  assert.notEqual(result.finishReason, null, 'a finish_reason was sent');
  return result;
}
