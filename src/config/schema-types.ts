import { z } from 'zod';
import { parseDuration, parseSize } from '../core/units.ts';

// Small reusable schema pieces: durations, sizes, integers that may arrive as strings after ${ENV}
// interpolation, header maps and string matchers.

/** A duration such as "250ms", "5s", "2m" or a number of milliseconds; parsed to milliseconds. */
export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration such as "250ms", "5s" or "2m", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/** A size such as "512kb", "4mb" or a number of bytes; parsed to bytes. */
export const size = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseSize(value);
  if (bytes === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a size such as "64kb" or "4mb", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return bytes;
});

const NUMERIC = /^-?\d+(?:\.\d+)?$/;

/** A number that may be written as a string (values interpolated from the environment are strings). */
export function numberish<T extends z.ZodType<number>>(schema: T) {
  return z.preprocess((v) => (typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : v), schema);
}

/** A boolean that may be written as "true"/"false" (interpolated values are strings). */
export const booleanish = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

export const port = numberish(z.number().int().min(0).max(65535));

/** A kebab- or snake-case identifier used for names that appear in metrics labels and headers. */
export const name = z
  .string()
  .regex(/^[A-Za-z0-9][\w.:/-]{0,99}$/, 'use letters, digits and . _ - : / (at most 100 characters)');

export const headerMap = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name'),
  z.string(),
);

/**
 * A string condition: an exact value, a list of accepted values, or an object with one of
 * prefix / regex / present.
 */
export const stringMatch = z.union([
  z.string(),
  z.array(z.string()).min(1),
  z.strictObject({ prefix: z.string() }),
  z.strictObject({ regex: z.string() }),
  z.strictObject({ present: z.boolean() }),
]);

/** A condition on a request field: a string condition, a number, a boolean, or a numeric comparison. */
export const fieldMatch = z.union([
  stringMatch,
  z.number(),
  z.boolean(),
  z
    .strictObject({
      gt: z.number().optional(),
      gte: z.number().optional(),
      lt: z.number().optional(),
      lte: z.number().optional(),
    })
    .refine((o) => Object.keys(o).length > 0, 'give at least one of gt, gte, lt, lte'),
]);

export type StringMatch = z.infer<typeof stringMatch>;
export type FieldMatch = z.infer<typeof fieldMatch>;
