// ${ENV_VAR} and ${ENV_VAR:-default} interpolation over the parsed YAML tree (never the raw text, so a
// secret with YAML-special characters cannot change the document's structure). `$${` writes a literal
// `${`. A missing variable without a default is a problem reported at the value's path.

export type ConfigPath = ReadonlyArray<string | number>;

export interface InterpolationProblem {
  readonly path: ConfigPath;
  readonly variable: string;
}

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
  onMissing: (variable: string) => void,
): string {
  if (!text.includes('${')) return text;
  return text.replace(REF, (match, variable: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    const value = env[variable ?? ''];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    onMissing(variable ?? '');
    return '';
  });
}

/** Returns a copy of `node` with every string interpolated, and the problems found. */
export function interpolateEnv(
  node: unknown,
  env: NodeJS.ProcessEnv,
): { value: unknown; problems: InterpolationProblem[] } {
  const problems: InterpolationProblem[] = [];
  const walk = (value: unknown, path: Array<string | number>): unknown => {
    if (typeof value === 'string') {
      return interpolateString(value, env, (variable) => problems.push({ path: [...path], variable }));
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = walk(item, [...path, key]);
      return out;
    }
    return value;
  };
  return { value: walk(node, []), problems };
}
