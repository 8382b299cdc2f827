import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestContext } from '../contracts/request.ts';
import { hashPrompt } from './prefix-hash.ts';
import { SchedulingRequestBuilder } from './scheduling-request.ts';

// The per-request input: prompt text walked in place for each API shape, token estimates, session keys
// by header, cookie or `user`, LoRA adapters, priority and tenant.

function ctx(body: Record<string, unknown>, over: Partial<RequestContext> = {}): RequestContext {
  return {
    id: 'r1',
    body,
    clientHeaders: {},
    model: 'public',
    upstreamModel: 'm',
    identity: null,
    priority: 'standard',
    ...over,
  } as unknown as RequestContext;
}

const SYSTEM = 'You are a careful assistant that answers questions about the ACME product line. '.repeat(4);

describe('scheduling request builder', () => {
  it('hashes chat messages as role + content, in order, without joining them', () => {
    const b = new SchedulingRequestBuilder();
    const r = b.build(
      ctx({
        messages: [
          { role: 'system', content: SYSTEM },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Where is my order?' },
              { type: 'image_url', image_url: {} },
            ],
          },
        ],
        max_tokens: 100,
      }),
    );
    const text = 'system' + SYSTEM + 'user' + 'Where is my order?';
    assert.deepEqual(r.prefixHashes, hashPrompt('m', text));
    assert.equal(r.promptTokens, Math.ceil(text.length / 4));
    assert.equal(r.tokenCost, r.promptTokens + 100);
    assert.equal(r.model, 'm');
    assert.equal(r.prefixBlockChars, 64);
  });

  it('reads completions prompts, Anthropic system blocks and Responses input', () => {
    const b = new SchedulingRequestBuilder();
    assert.deepEqual(b.build(ctx({ prompt: SYSTEM })).prefixHashes, hashPrompt('m', SYSTEM));
    const anthropic = b.build(
      ctx({ system: [{ type: 'text', text: SYSTEM }], messages: [{ role: 'user', content: 'hi' }] }),
    );
    assert.deepEqual(anthropic.prefixHashes, hashPrompt('m', SYSTEM + 'user' + 'hi'));
    const responses = b.build(
      ctx({ input: [{ role: 'user', content: [{ type: 'input_text', text: SYSTEM }] }] }),
    );
    assert.deepEqual(responses.prefixHashes, hashPrompt('m', SYSTEM));
    assert.equal(b.build(ctx({ prompt: SYSTEM })).tokenCost, Math.ceil(SYSTEM.length / 4) + 256);
  });

  it('a conversation’s next turn extends the previous turn’s hashes', () => {
    const b = new SchedulingRequestBuilder();
    const turn1 = [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: 'First question about pricing tiers and discounts for schools?' },
    ];
    const turn2 = [
      ...turn1,
      { role: 'assistant', content: 'Schools get 30% off. '.repeat(5) },
      { role: 'user', content: 'And for charities?' },
    ];
    const h1 = b.build(ctx({ messages: turn1 })).prefixHashes;
    const h2 = b.build(ctx({ messages: turn2 })).prefixHashes;
    assert.deepEqual(h2.slice(0, h1.length), h1);
    assert.ok(h2.length > h1.length);
  });

  it('takes the session key from the header, then the cookie, then `user`', () => {
    const b = new SchedulingRequestBuilder({ sessionCookie: 'sid' });
    const body = { user: 'u-7', messages: [] };
    assert.equal(
      b.build(ctx(body, { clientHeaders: { 'x-session-id': 'h-1', cookie: 'sid=c-1' } })).sessionKey,
      'h-1',
    );
    assert.equal(b.build(ctx(body, { clientHeaders: { cookie: 'a=1; sid=c%201' } })).sessionKey, 'c 1');
    assert.equal(b.build(ctx(body)).sessionKey, 'u-7');
    assert.equal(new SchedulingRequestBuilder({ sessionFromUser: false }).build(ctx(body)).sessionKey, null);
  });

  it('marks LoRA adapters and carries priority and tenant', () => {
    const b = new SchedulingRequestBuilder({ adapters: new Set(['sql-lora']) });
    const identity = { id: 'key-1', tenant: 'acme', team: null };
    const r = b.build(
      ctx({ prompt: 'x' }, { upstreamModel: 'sql-lora', priority: 'critical', identity } as never),
    );
    assert.deepEqual([r.adapter, r.priority, r.tenant], ['sql-lora', 'critical', 'acme']);
    assert.equal(b.build(ctx({ prompt: 'x' })).adapter, null);
    assert.equal(b.build(ctx({ prompt: 'x' })).tenant, 'anonymous');
  });
});
