import type { ConfigPath } from './interpolate.ts';
import { formatPath, suggest } from './problems.ts';
import type { Config, PolicyConfig } from './schema.ts';
import { policyRegistry } from '../policies/registry.ts';

// Cross-reference checks the schema cannot express: unique names, targets naming defined providers,
// routes naming defined models, policy types that exist and params that fit them.

export interface ReferenceProblem {
  readonly at: ConfigPath;
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
}

function problem(at: ConfigPath, message: string, hint?: string): ReferenceProblem {
  return { at, path: formatPath(at), message, ...(hint !== undefined ? { hint } : {}) };
}

function checkPolicies(list: readonly PolicyConfig[], base: ConfigPath, out: ReferenceProblem[]): void {
  const types = [...policyRegistry.keys()];
  const names = new Set<string>();
  list.forEach((policy, i) => {
    const at = [...base, i];
    const factory = policyRegistry.get(policy.type);
    if (factory === undefined) {
      out.push(
        problem(
          [...at, 'type'],
          `unknown policy type '${policy.type}'`,
          suggest(policy.type, types, 'policy types'),
        ),
      );
      return;
    }
    const name = policy.name ?? policy.type;
    if (names.has(name))
      out.push(
        problem(
          [...at, 'name'],
          `policy name '${name}' is used twice here`,
          'give each policy a distinct name',
        ),
      );
    names.add(name);
    const parsed = factory.params.safeParse(policy.params);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
        for (const key of keys) {
          const path = [...at, 'params', ...(issue.path as ConfigPath), ...(key !== undefined ? [key] : [])];
          out.push(
            problem(
              path,
              key !== undefined ? `unknown parameter '${key}'` : issue.message,
              `see docs/configuration.md, policy '${policy.type}'`,
            ),
          );
        }
      }
    }
  });
}

export function validateReferences(config: Config): ReferenceProblem[] {
  const out: ReferenceProblem[] = [];
  const providers = new Map<string, number>();
  config.providers.forEach((p, i) => {
    if (providers.has(p.name))
      out.push(
        problem(['providers', i, 'name'], `provider '${p.name}' is defined twice`, 'rename one of them'),
      );
    else providers.set(p.name, i);
  });
  const providerNames = [...providers.keys()];
  const publicNames = new Map<string, string>();
  config.models.forEach((model, i) => {
    for (const [j, name] of [model.name, ...model.aliases].entries()) {
      const at: ConfigPath = j === 0 ? ['models', i, 'name'] : ['models', i, 'aliases', j - 1];
      const owner = publicNames.get(name);
      if (owner !== undefined)
        out.push(
          problem(
            at,
            `model name '${name}' is already used by model '${owner}'`,
            'public names and aliases must be unique',
          ),
        );
      else publicNames.set(name, model.name);
    }
    const labels = new Set<string>();
    model.targets.forEach((target, j) => {
      if (!providers.has(target.provider)) {
        out.push(
          problem(
            ['models', i, 'targets', j, 'provider'],
            `unknown provider '${target.provider}'`,
            suggest(target.provider, providerNames, 'providers'),
          ),
        );
      }
      const label = target.name ?? `${target.provider}/${target.model ?? model.name}`;
      if (labels.has(label))
        out.push(
          problem(
            ['models', i, 'targets', j],
            `two targets share the label '${label}'`,
            'give one of them a distinct name:',
          ),
        );
      labels.add(label);
    });
    for (const list of ['fallbacks', 'context_fallbacks', 'content_fallbacks'] as const) {
      model[list].forEach((target, j) => {
        if (!providers.has(target.provider)) {
          out.push(
            problem(
              ['models', i, list, j, 'provider'],
              `unknown provider '${target.provider}'`,
              suggest(target.provider, providerNames, 'providers'),
            ),
          );
        }
      });
    }
    if (model.targets.every((t) => t.weight === 0)) {
      out.push(
        problem(
          ['models', i, 'targets'],
          'every target has weight 0, so no request could be served',
          'give at least one target a positive weight',
        ),
      );
    }
  });
  const knownModels = [...publicNames.keys()];
  const routes = new Set<string>();
  config.routes.forEach((route, i) => {
    if (routes.has(route.name))
      out.push(
        problem(['routes', i, 'name'], `route '${route.name}' is defined twice`, 'rename one of them'),
      );
    routes.add(route.name);
    if (route.model !== undefined && !publicNames.has(route.model)) {
      out.push(
        problem(
          ['routes', i, 'model'],
          `unknown model '${route.model}'`,
          suggest(route.model, knownModels, 'models'),
        ),
      );
    }
    const regexes = [
      ...Object.entries(route.match.headers ?? {}),
      ...Object.entries(route.match.fields ?? {}),
    ];
    for (const [key, cond] of regexes) {
      if (typeof cond !== 'object' || cond === null || !('regex' in cond)) continue;
      try {
        new RegExp(cond.regex);
      } catch (err) {
        out.push(
          problem(
            ['routes', i, 'match', route.match.headers?.[key] === cond ? 'headers' : 'fields', key, 'regex'],
            `invalid regular expression: ${(err as Error).message}`,
            'fix the pattern',
          ),
        );
      }
    }
    checkPolicies(route.policies, ['routes', i, 'policies'], out);
  });
  checkPolicies(config.policies, ['policies'], out);
  return out;
}
