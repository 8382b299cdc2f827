import type { FieldMatch, StringMatch } from '../config/schema-types.ts';
import type { RouteConfig } from '../config/schema.ts';
import type { RequestContext } from '../contracts/request.ts';

// Route conditions compiled once into small predicates. A request is tested against each rule in order;
// the first rule whose every condition holds decides the route.

export type Predicate = (ctx: RequestContext) => boolean;
type ValueTest = (value: unknown) => boolean;

function stringTest(cond: StringMatch): ValueTest {
  if (typeof cond === 'string') return (v) => v === cond;
  if (Array.isArray(cond)) {
    const set = new Set(cond);
    return (v) => typeof v === 'string' && set.has(v);
  }
  if ('prefix' in cond) return (v) => typeof v === 'string' && v.startsWith(cond.prefix);
  if ('regex' in cond) {
    const re = new RegExp(cond.regex);
    return (v) => typeof v === 'string' && re.test(v);
  }
  const present = cond.present;
  return (v) => (v !== undefined && v !== null) === present;
}

function fieldTest(cond: FieldMatch): ValueTest {
  if (typeof cond === 'number' || typeof cond === 'boolean') return (v) => v === cond;
  if (
    typeof cond === 'string' ||
    Array.isArray(cond) ||
    'prefix' in cond ||
    'regex' in cond ||
    'present' in cond
  ) {
    const test = stringTest(cond);
    // Numbers and booleans compare by their text for string conditions ("tier: '1'" matches 1).
    return (v) => test(typeof v === 'number' || typeof v === 'boolean' ? String(v) : v);
  }
  const { gt, gte, lt, lte } = cond;
  return (v) =>
    typeof v === 'number' &&
    (gt === undefined || v > gt) &&
    (gte === undefined || v >= gte) &&
    (lt === undefined || v < lt) &&
    (lte === undefined || v <= lte);
}

function readPath(body: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = body;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function headerValue(ctx: RequestContext, name: string): string | undefined {
  const value = ctx.clientHeaders[name];
  return Array.isArray(value) ? value[0] : value;
}

export function compileMatch(match: RouteConfig['match']): Predicate {
  const tests: Predicate[] = [];
  if (match.api !== undefined) {
    const apis = new Set(match.api);
    tests.push((ctx) => apis.has(ctx.api));
  }
  if (match.model !== undefined) {
    const test = stringTest(match.model);
    tests.push((ctx) => test(ctx.requestedModel));
  }
  for (const [name, cond] of Object.entries(match.headers ?? {})) {
    const header = name.toLowerCase();
    const test = stringTest(cond);
    tests.push((ctx) => test(headerValue(ctx, header)));
  }
  for (const [path, cond] of Object.entries(match.fields ?? {})) {
    const parts = path.split('.');
    const test = fieldTest(cond);
    tests.push((ctx) => test(readPath(ctx.body, parts)));
  }
  if (tests.length === 1) return tests[0]!;
  return (ctx) => {
    for (const test of tests) if (!test(ctx)) return false;
    return true;
  };
}
