import type { Logger } from 'pino';
import type { GovernanceHooks } from '../policies/governance/services.ts';
import type { GatewayMetrics } from './metrics.ts';

// Governance events (state store failures and recoveries, budget alerts, dropped ledger records) as
// metrics and log lines.

export function governanceHooks(metrics: GatewayMetrics, logger: Logger): GovernanceHooks {
  return {
    onStateEvent: (event) => {
      metrics.stateEvents.labels(event.component, event.kind, event.decision ?? '').inc();
      if (event.kind === 'down')
        logger.error({ component: event.component, err: event.error?.message }, 'state store unavailable');
      else if (event.kind === 'up')
        logger.info({ component: event.component }, 'state store available again');
    },
    onBudgetEvent: (event) => {
      metrics.budgetAlerts.labels(event.kind, event.scope, event.metric).inc();
      logger.warn({ ...event }, event.kind === 'soft' ? 'budget soft limit reached' : 'budget exhausted');
    },
    onLedgerDrop: (count) => {
      metrics.ledgerDropped.inc(count);
      logger.error({ count }, 'usage ledger dropped records');
    },
  };
}
