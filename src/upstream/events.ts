// What the upstream layer reports to telemetry, as one small interface so providers need not know about
// Prometheus or the logger.

export interface UpstreamEvents {
  ejection(provider: string, endpoint: string, ejected: boolean): void;
  health(provider: string, endpoint: string, healthy: boolean): void;
  retry(provider: string, reason: string): void;
  fallback(model: string, from: string, to: string, reason: string): void;
  retryBudgetExhausted(provider: string): void;
}

export const NO_EVENTS: UpstreamEvents = {
  ejection: () => {},
  health: () => {},
  retry: () => {},
  fallback: () => {},
  retryBudgetExhausted: () => {},
};
