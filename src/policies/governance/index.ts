import type { PolicyFactory } from '../../contracts/policy.ts';
import { authFactory } from './auth.ts';
import { budgetFactory } from './budget.ts';
import { costFactory } from './cost.ts';
import { ledgerFactory } from './ledger.ts';
import { rateLimitFactory } from './rate-limit.ts';

// The governance policy factories (auth, rate-limit, budget, cost, ledger) for the policy registry. They
// take their shared services from PolicyServices.governance (see createGovernanceServices).

export const governanceFactories: readonly PolicyFactory<never>[] = [
  authFactory,
  rateLimitFactory,
  budgetFactory,
  costFactory,
  ledgerFactory,
] as PolicyFactory<never>[];

export { authFactory, budgetFactory, costFactory, ledgerFactory, rateLimitFactory };
export { budgetStatus, type BudgetStatus } from './budget-status.ts';
export { governanceSchema, keyConfigSchema, type GovernanceConfig, type KeyConfig } from './config.ts';
export { usageRecordOf } from './ledger.ts';
export { budgetRule, keyBudgetRule, keyRateLimitRule, modelPrice, rateLimitRule } from './params.ts';
export { PriceBook } from './prices.ts';
export { governanceState } from './request-state.ts';
export {
  createGovernanceServices,
  keyFieldsOf,
  type GovernanceHooks,
  type ManagedGovernance,
} from './services.ts';
