import { z } from 'zod';
import { parseDuration } from '../core/units.ts';

// Schema pieces for scheduling plugin params and pool options. Keys are snake_case like the rest of the
// YAML; numbers may arrive as strings after ${ENV} interpolation.

const NUMERIC = /^-?\d+(?:\.\d+)?$/;

function numberish<T extends z.ZodType<number>>(schema: T) {
  return z.preprocess((v) => (typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : v), schema);
}

export const nonNegative = numberish(z.number().min(0));
export const positive = numberish(z.number().positive());
export const positiveInt = numberish(z.number().int().positive());
export const nonNegativeInt = numberish(z.number().int().min(0));
export const fraction = numberish(z.number().min(0).max(1));

/** A duration such as "50ms" or "2s", or a number of milliseconds. */
export const durationMs = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration such as "50ms" or "2s", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/** No params: an absent or empty object. */
export const noParams = z.strictObject({}).optional();
