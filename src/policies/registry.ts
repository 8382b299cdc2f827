import type { PolicyFactory } from '../contracts/policy.ts';
import { governanceFactories } from './governance/index.ts';
import { headersFactory } from './headers.ts';
import { requestCapsFactory } from './request-caps.ts';

// Every policy type the config may name, by type id. Issues that add policies register them here.

const factories: readonly PolicyFactory<never>[] = [
  requestCapsFactory,
  headersFactory,
  ...governanceFactories,
] as PolicyFactory<never>[];

export const policyRegistry: ReadonlyMap<string, PolicyFactory<unknown>> = new Map(
  factories.map((f) => [f.type, f as unknown as PolicyFactory<unknown>]),
);
