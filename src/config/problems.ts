import type { ConfigPath } from './interpolate.ts';

// A configuration problem names where it is (a path such as providers[0].base_url, and the line when the
// file is known), what is wrong, and how to fix it. All problems of a file are reported in one pass.

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
  readonly line?: number;
  readonly column?: number;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  readonly file: string | undefined;

  constructor(problems: readonly ConfigProblem[], file?: string) {
    super(
      `${problems.length} configuration problem${problems.length === 1 ? '' : 's'}${file ? ` in ${file}` : ''}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
    this.file = file;
  }
}

export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(root)' : out;
}

/** Human-readable lines, one per problem: `file:line:col path: message (hint)`. */
export function formatProblems(err: ConfigError): string {
  return err.problems
    .map((p) => {
      const where = err.file ? `${err.file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''} ` : '';
      return `${where}${p.path}: ${p.message}${p.hint ? `\n    hint: ${p.hint}` : ''}`;
    })
    .join('\n');
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys and names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** "did you mean 'x'? known: a, b, c" */
export function suggest(word: string, candidates: readonly string[], noun = 'known'): string {
  const near = closest(word, candidates);
  const list = candidates.length > 0 ? `${noun}: ${candidates.join(', ')}` : `none is defined`;
  return near !== undefined ? `did you mean '${near}'? ${list}` : list;
}
