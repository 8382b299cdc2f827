import { z } from 'zod';
import type {
  Filter,
  Picker,
  PluginByKind,
  PluginFactory,
  PluginKind,
  WeightedScorer,
} from '../contracts/scheduling.ts';
import { SchedulingProfile } from './profile.ts';

// Plugin factories by kebab-case type id, and `buildProfile`, which turns a profile's config into a
// SchedulingProfile: it checks the shape, looks every type up, validates each plugin's params with its
// own schema and reports every problem with its path in one pass (nothing is built if any is found).

export interface ProfileProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export type BuildResult =
  { ok: true; profile: SchedulingProfile } | { ok: false; problems: ProfileProblem[] };

/** A factory with its params type erased, as the registry holds it. */
export type AnyFactory = PluginFactory<PluginKind, unknown>;

/** Type-check a factory against its own params type, then erase that type for the registry. */
export function definePlugin<K extends PluginKind, P>(factory: PluginFactory<K, P>): AnyFactory {
  return factory;
}

export class PluginRegistry {
  private readonly factories = new Map<string, AnyFactory>();

  register(factory: AnyFactory): this {
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(factory.type))
      throw new Error(`plugin type '${factory.type}' is not kebab-case`);
    if (this.factories.has(factory.type))
      throw new Error(`plugin type '${factory.type}' is registered twice`);
    this.factories.set(factory.type, factory);
    return this;
  }

  get(type: string): AnyFactory | undefined {
    return this.factories.get(type);
  }

  /** Registered type ids, optionally of one kind. */
  types(kind?: PluginKind): string[] {
    return [...this.factories.values()]
      .filter((f) => kind === undefined || f.kind === kind)
      .map((f) => f.type);
  }
}

const pluginRef = z.strictObject({
  type: z.string().min(1),
  name: z.string().min(1).optional(),
  params: z.unknown().optional(),
});

const scorerRef = pluginRef.extend({
  weight: z
    .preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number().min(0))
    .default(1),
});

/** The shape of a profile in config (plugin params are checked by each plugin's own schema). */
export const profileConfigSchema = z.strictObject({
  name: z.string().min(1).optional(),
  filters: z.array(pluginRef).default([]),
  scorers: z.array(scorerRef).default([]),
  picker: pluginRef,
});

/** The outer shape only: entries are checked one by one so that every problem is found in one pass. */
const outline = z.strictObject({
  name: z.string().min(1).optional(),
  filters: z.array(z.unknown()).default([]),
  scorers: z.array(z.unknown()).default([]),
  picker: z.unknown(),
});

type Path = (string | number)[];

interface Context {
  readonly registry: PluginRegistry;
  readonly problems: ProfileProblem[];
}

function report(cx: Context, at: Path, issues: readonly z.core.$ZodIssue[]): void {
  for (const i of issues) {
    cx.problems.push({
      path: [...at, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
      message: i.message,
    });
  }
}

function create<K extends PluginKind>(
  cx: Context,
  kind: K,
  ref: z.infer<typeof pluginRef>,
  at: Path,
): PluginByKind[K] | null {
  const factory = cx.registry.get(ref.type);
  if (factory === undefined || factory.kind !== kind) {
    const known = cx.registry.types(kind).join(', ');
    const other = factory === undefined ? '' : ` ('${ref.type}' is a ${factory.kind})`;
    cx.problems.push({
      path: [...at, 'type'],
      message: `unknown ${kind} type '${ref.type}'${other}; known: ${known}`,
    });
    return null;
  }
  const parsed = factory.params.safeParse(ref.params);
  if (!parsed.success) {
    report(cx, [...at, 'params'], parsed.error.issues);
    return null;
  }
  return factory.create(ref.name ?? ref.type, parsed.data) as PluginByKind[K];
}

function entry<S extends z.ZodType>(cx: Context, schema: S, value: unknown, at: Path): z.output<S> | null {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  report(cx, at, parsed.error.issues);
  return null;
}

/** Build a profile from config, or list every problem (with its path) and build nothing. */
export function buildProfile(config: unknown, registry: PluginRegistry, name = 'default'): BuildResult {
  const cx: Context = { registry, problems: [] };
  const c = entry(cx, outline, config, []);
  if (c === null) return { ok: false, problems: cx.problems };
  const filters: Filter[] = [];
  c.filters.forEach((raw, i) => {
    const ref = entry(cx, pluginRef, raw, ['filters', i]);
    const f = ref === null ? null : create(cx, 'filter', ref, ['filters', i]);
    if (f !== null) filters.push(f);
  });
  const scorers: WeightedScorer[] = [];
  const names = new Set<string>();
  c.scorers.forEach((raw, i) => {
    const ref = entry(cx, scorerRef, raw, ['scorers', i]);
    const s = ref === null ? null : create(cx, 'scorer', ref, ['scorers', i]);
    if (ref === null || s === null) return;
    if (names.has(s.name)) {
      cx.problems.push({
        path: ['scorers', i, 'name'],
        message: `two scorers are named '${s.name}'; give one a name`,
      });
    }
    names.add(s.name);
    scorers.push({ scorer: s, weight: ref.weight });
  });
  const pickerRef = entry(cx, pluginRef, c.picker, ['picker']);
  const picker: Picker | null = pickerRef === null ? null : create(cx, 'picker', pickerRef, ['picker']);
  if (cx.problems.length > 0 || picker === null) return { ok: false, problems: cx.problems };
  return { ok: true, profile: new SchedulingProfile(c.name ?? name, { filters, scorers, picker }) };
}

/** Problems as one line each: `scorers[1].params.weight: expected number`. */
export function formatProfileProblems(problems: readonly ProfileProblem[]): string {
  return problems
    .map(
      (p) =>
        `${p.path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`), '')}: ${p.message}`,
    )
    .join('\n');
}
