import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openAIToAnthropic } from '../../translators/openai-to-anthropic.ts';
import { messagesToChat } from './messages-to-chat.ts';

// Messages requests (shapes from the Anthropic Messages API reference) → OpenAI chat bodies.

const EPHEMERAL = { type: 'ephemeral' };

const REQUEST = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'You are terse.', cache_control: EPHEMERAL }],
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this image?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
        {
          type: 'document',
          source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' },
          title: 'a.pdf',
        },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Look it up.', signature: 'sig' },
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'toolu_1', name: 'search', input: { q: 'cat' } },
        { type: 'tool_use', id: 'toolu_2', name: 'search', input: { q: 'dog' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: 'a cat' },
        {
          type: 'tool_result',
          tool_use_id: 'toolu_2',
          content: [
            { type: 'text', text: 'a dog' },
            { type: 'image', source: { type: 'url', url: 'https://example.com/dog.png' } },
          ],
          is_error: false,
        },
        { type: 'text', text: 'Thanks', cache_control: EPHEMERAL },
      ],
    },
  ],
  tools: [
    { name: 'search', description: 'Search', input_schema: { type: 'object' }, cache_control: EPHEMERAL },
  ],
  tool_choice: { type: 'any', disable_parallel_tool_use: true },
  stop_sequences: ['END'],
  temperature: 0.5,
  top_p: 0.9,
  top_k: 40,
  metadata: { user_id: 'u-1' },
  thinking: { type: 'enabled', budget_tokens: 5000 },
  stream: true,
};

describe('messagesToChat', () => {
  it('maps a full Messages request for an OpenAI-compatible upstream', () => {
    assert.deepEqual(messagesToChat(REQUEST), {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [
        { role: 'system', content: 'You are terse.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
            { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0x', filename: 'a.pdf' } },
          ],
        },
        {
          role: 'assistant',
          content: 'Let me look.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'search', arguments: '{"q":"cat"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'search', arguments: '{"q":"dog"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'a cat' },
        { role: 'tool', tool_call_id: 'toolu_2', content: 'a dog' },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'https://example.com/dog.png' } },
            { type: 'text', text: 'Thanks' },
          ],
        },
      ],
      stop: ['END'],
      temperature: 0.5,
      top_p: 0.9,
      tools: [
        {
          type: 'function',
          function: { name: 'search', parameters: { type: 'object' }, description: 'Search' },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      user: 'u-1',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('keeps Anthropic extensions and maps thinking to reasoning_effort when asked', () => {
    const chat = messagesToChat(REQUEST, { extensions: true, reasoningEffort: true });
    assert.equal(chat.reasoning_effort, 'medium');
    assert.deepEqual(chat.thinking, REQUEST.thinking);
    assert.equal(chat.top_k, 40);
    const messages = chat.messages as Record<string, unknown>[];
    assert.deepEqual(messages[0], {
      role: 'system',
      content: [{ type: 'text', text: 'You are terse.', cache_control: EPHEMERAL }],
    });
    assert.deepEqual(messages[2]!.thinking_blocks, [
      { type: 'thinking', thinking: 'Look it up.', signature: 'sig' },
    ]);
    assert.deepEqual((chat.tools as Record<string, unknown>[])[0]!.cache_control, EPHEMERAL);
  });

  it('round-trips through openai-to-anthropic with extensions on', () => {
    const { stream: _, ...rest } = REQUEST;
    const body = { ...rest, tool_choice: { type: 'tool', name: 'search' } };
    const chat = messagesToChat(body, { extensions: true });
    const input = {
      api: 'chat' as const,
      body: chat,
      model: 'claude-sonnet-4-5',
      stream: false,
      clientWantsUsage: false,
    };
    const back = JSON.parse(String(openAIToAnthropic.request(input).body)) as Record<string, unknown>;
    // Tool-result images move after the tool results, into the same user turn; temperature and top_k are
    // dropped because thinking is on; the rest is identical.
    const messages = structuredClone(body.messages) as { content: Record<string, unknown>[] }[];
    const toolResult = messages[2]!.content[1]!;
    toolResult.content = 'a dog';
    delete toolResult.is_error;
    messages[2]!.content.splice(2, 0, {
      type: 'image',
      source: { type: 'url', url: 'https://example.com/dog.png' },
    });
    const { temperature: _t, top_k: _k, ...expected } = body;
    assert.deepEqual(back, { ...expected, messages });
  });

  it('refuses server tools and malformed requests with their param', () => {
    const web = { ...REQUEST, tools: [{ type: 'web_search_20250305', name: 'web_search' }] };
    assert.throws(() => messagesToChat(web), { code: 'invalid_request', param: 'tools[0]' });
    assert.throws(() => messagesToChat({ ...REQUEST, max_tokens: undefined }), { param: 'max_tokens' });
    assert.throws(() => messagesToChat({ ...REQUEST, messages: [{ role: 'tool', content: 'x' }] }), {
      param: 'messages[0].role',
    });
    const fileImage = { role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] };
    assert.throws(() => messagesToChat({ ...REQUEST, messages: [fileImage] }), {
      param: 'messages[0].content[0]',
    });
  });
});
