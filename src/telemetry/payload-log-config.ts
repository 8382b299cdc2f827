import { z } from 'zod';
import { booleanish, numberish } from '../config/schema-types.ts';

// A route's `log_payloads`: prompts and responses in its access-log lines, redacted. Off unless a route
// asks for it; a route that has it logs nothing extra unless `prompts` or `responses` is true.

/** Built-in detectors, by the kind their matches are reported as: [REDACTED:<kind>]. */
export const BUILTIN_REDACTIONS = ['email', 'phone', 'credit_card', 'api_key', 'ipv4'] as const;
export type BuiltinRedaction = (typeof BUILTIN_REDACTIONS)[number];

const regex = z.string().superRefine((source, ctx) => {
  let re: RegExp;
  try {
    re = new RegExp(source, 'u');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
    return;
  }
  if (re.test('')) ctx.addIssue({ code: 'custom', message: 'the pattern matches the empty string' });
});

export const payloadLogSchema = z
  .strictObject({
    /** Log the request's messages (or prompt / input), after on-request policies. */
    prompts: booleanish.default(false),
    /** Log the response text; for streams, assembled from the frames sent to the client. */
    responses: booleanish.default(false),
    /** Characters kept per field; longer text is cut and ends with …[truncated]. */
    max_chars: numberish(z.number().int().min(16).max(1_000_000)).default(4096),
    /** Built-in detectors; matches become [REDACTED:<kind>]. [] turns them all off. */
    redact: z.array(z.enum(BUILTIN_REDACTIONS)).default([...BUILTIN_REDACTIONS]),
    /** Extra patterns (JavaScript regular expressions, Unicode mode); matches become [REDACTED:<name>]. */
    patterns: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'use letters, digits, _ and - (at most 40)'),
          regex,
        }),
      )
      .default([]),
  })
  .refine((c) => c.prompts || c.responses, 'logs nothing: set prompts and/or responses to true');

export type PayloadLogConfig = z.infer<typeof payloadLogSchema>;
