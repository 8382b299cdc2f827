import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, type Document } from 'yaml';
import type { z } from 'zod';
import { interpolateEnv, type ConfigPath } from './interpolate.ts';
import { ConfigError, formatPath, suggest, type ConfigProblem } from './problems.ts';
import { configSchema, type Config } from './schema.ts';
import { validateReferences } from './validate.ts';

// Loading is: YAML → ${ENV} interpolation → schema (types, defaults, strict keys) → cross-references.
// Every step collects all of its problems; loading fails with one ConfigError that lists them all.

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Shown in problems; defaults to the path given to loadConfigFile. */
  readonly file?: string;
}

function locate(doc: Document, counter: LineCounter, path: ConfigPath): { line?: number; column?: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node?.range !== undefined) {
      const pos = counter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

function allowedKeys(doc: Document, path: ConfigPath): string[] {
  // The schema is strict, so the allowed keys of an object are those its shape declares; we find the
  // shape by walking the schema along the path when possible.
  void doc;
  let schema: unknown = configSchema;
  for (const part of path) {
    schema = unwrap(schema);
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    const element = (schema as { element?: unknown }).element;
    if (typeof part === 'number' && element !== undefined) schema = element;
    else if (typeof part === 'string' && shape !== undefined) schema = shape[part];
    else return [];
  }
  const shape = (unwrap(schema) as { shape?: Record<string, unknown> }).shape;
  return shape !== undefined ? Object.keys(shape) : [];
}

function unwrap(schema: unknown): unknown {
  let s = schema as { def?: { innerType?: unknown; in?: unknown; type?: string } } | undefined;
  while (s?.def !== undefined && (s.def.innerType !== undefined || s.def.type === 'pipe')) {
    s = (s.def.innerType ?? s.def.in) as typeof s;
  }
  return s;
}

function problemFromIssue(issue: z.core.$ZodIssue, doc: Document, counter: LineCounter): ConfigProblem[] {
  const path = issue.path as ConfigPath;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(doc, path);
    return issue.keys.map((key) => ({
      path: formatPath([...path, key]),
      message: `unknown key '${key}'`,
      hint: `${suggest(key, allowed, 'allowed keys')}`,
      ...locate(doc, counter, [...path, key]),
    }));
  }
  let hint: string | undefined;
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    hint = `'${String(path[path.length - 1])}' is required here`;
  } else if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    hint = `use one of: ${issue.options.map(String).join(', ')}`;
  } else if (issue.code === 'invalid_value' && 'values' in issue) {
    hint = `use one of: ${issue.values.map(String).join(', ')}`;
  }
  const message = issue.message.replace(/^Invalid input: /, '');
  return [{ path: formatPath(path), message, ...(hint ? { hint } : {}), ...locate(doc, counter, path) }];
}

/** Parse and validate config text. Throws ConfigError listing every problem. */
export function parseConfig(text: string, options: LoadOptions = {}): Config {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          path: '(yaml)',
          message: e.message.split('\n')[0] ?? e.message,
          hint: 'fix the YAML syntax at this line',
          ...(pos ? { line: pos.line, column: pos.col } : {}),
        };
      }),
      options.file,
    );
  }
  const raw: unknown = doc.contents === null ? {} : doc.toJS();
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ConfigError(
      [
        {
          path: '(root)',
          message: 'the config must be a YAML mapping',
          hint: 'start with keys such as providers: and models:',
        },
      ],
      options.file,
    );
  }
  const { value, problems: envProblems } = interpolateEnv(raw, options.env ?? process.env);
  const problems: ConfigProblem[] = envProblems.map((p) => ({
    path: formatPath(p.path),
    message: `environment variable ${p.variable} is not set`,
    hint: `export ${p.variable}=…, or give a default: \${${p.variable}:-value}`,
    ...locate(doc, counter, p.path),
  }));
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    const envPaths = new Set(problems.map((p) => p.path));
    for (const issue of parsed.error.issues) {
      for (const p of problemFromIssue(issue, doc, counter)) if (!envPaths.has(p.path)) problems.push(p);
    }
    throw new ConfigError(problems, options.file);
  }
  for (const p of validateReferences(parsed.data)) problems.push({ ...p, ...locate(doc, counter, p.at) });
  if (problems.length > 0) throw new ConfigError(problems, options.file);
  return parsed.data;
}

export async function loadConfigFile(file: string, options: LoadOptions = {}): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(err);
    throw new ConfigError(
      [{ path: '(file)', message: reason, hint: 'pass an existing YAML file with --config' }],
      file,
    );
  }
  return parseConfig(text, { file, ...options });
}
