import { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import type { Policy, PolicyFactory } from '../contracts/policy.ts';
import type { RequestContext } from '../contracts/request.ts';

// Caps on what one request may ask for: output tokens, number of messages, prompt size. They protect
// upstreams (and budgets) from a single oversized request. `max_tokens` can be clamped instead of refused.

const params = z.strictObject({
  /** Largest max_tokens / max_completion_tokens / max_output_tokens a request may ask for. */
  max_tokens: z.number().int().positive().optional(),
  /** What to do when a request asks for more: refuse with 400, or lower it to the cap. */
  on_max_tokens: z.enum(['reject', 'clamp']).default('reject'),
  /** Most messages in one chat request. */
  max_messages: z.number().int().positive().optional(),
  /** Most characters of text across the prompt (messages, prompt or input). */
  max_prompt_chars: z.number().int().positive().optional(),
});

type Params = z.infer<typeof params>;

const TOKEN_FIELDS = ['max_tokens', 'max_completion_tokens', 'max_output_tokens'] as const;

function promptChars(value: unknown, limit: number): number {
  // Counts string characters anywhere in the prompt structure, stopping as soon as the limit is passed.
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const item = stack.pop();
    if (typeof item === 'string') total += item.length;
    else if (Array.isArray(item)) for (const x of item) stack.push(x);
    else if (typeof item === 'object' && item !== null) for (const x of Object.values(item)) stack.push(x);
  }
  return total;
}

class RequestCapsPolicy implements Policy {
  readonly type = 'request-caps';
  readonly name: string;
  private readonly p: Params;

  constructor(name: string, p: Params) {
    this.name = name;
    this.p = p;
  }

  onRequest(ctx: RequestContext): void {
    const { max_tokens: cap, max_messages: maxMessages, max_prompt_chars: maxChars } = this.p;
    const body = ctx.body;
    if (cap !== undefined) {
      for (const field of TOKEN_FIELDS) {
        const asked = body[field];
        if (typeof asked !== 'number' || asked <= cap) continue;
        if (this.p.on_max_tokens === 'clamp') ctx.body = { ...ctx.body, [field]: cap };
        else
          throw new GatewayError('invalid_request', `${field} must be at most ${cap} on this gateway`, {
            param: field,
          });
      }
    }
    const messages = body.messages;
    if (maxMessages !== undefined && Array.isArray(messages) && messages.length > maxMessages) {
      throw new GatewayError('invalid_request', `at most ${maxMessages} messages are accepted`, {
        param: 'messages',
      });
    }
    if (maxChars !== undefined) {
      const prompt = body.messages ?? body.prompt ?? body.input;
      if (promptChars(prompt, maxChars) > maxChars) {
        throw new GatewayError(
          'context_length_exceeded',
          `the prompt exceeds ${maxChars} characters allowed on this gateway`,
        );
      }
    }
  }
}

export const requestCapsFactory: PolicyFactory<Params> = {
  type: 'request-caps',
  description: 'Refuse (or clamp) requests asking for too many output tokens, messages or prompt characters.',
  params,
  create: (name, p) => new RequestCapsPolicy(name, p),
};
