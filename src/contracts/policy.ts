import type { z } from 'zod';
import type { GatewayError } from '../core/errors.ts';
import type { GovernanceServices } from './governance.ts';
import type { RequestContext } from './request.ts';

// Policies are typed hooks compiled per route. A policy implements any subset of the hooks; the compile
// step builds one array per hook, so an unused hook costs nothing. Policies are built once per Runtime
// and keep no per-request state: what a request needs is on its RequestContext.

export interface Policy {
  readonly type: string;
  readonly name: string;
  /** Before routing to an upstream. Throw a GatewayError to reject; may edit ctx.body and headers. */
  onRequest?(ctx: RequestContext): void | Promise<void>;
  /** When the upstream's response status is known, before anything is sent to the client. */
  onResponseStart?(ctx: RequestContext): void;
  /** After the exchange, whatever its outcome (usage is final here). Must not throw. */
  onEnd?(ctx: RequestContext): void;
  /** When the request failed with an error (before onEnd). Must not throw. */
  onError?(ctx: RequestContext, err: GatewayError): void;
}

export interface PolicyPipeline {
  readonly onRequest: readonly Policy[];
  readonly onResponseStart: readonly Policy[];
  readonly onEnd: readonly Policy[];
  readonly onError: readonly Policy[];
}

/**
 * Shared services a policy may need, built once per gateway process (not per Runtime) so that state such
 * as counters survives a reload. Issues that add stateful policies extend this interface.
 */
export interface PolicyServices {
  /** Structured log line for operators (the gateway's logger). */
  log(level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void;
  /** Keys, quotas, prices and the ledger, shared by governance policies across reloads. */
  readonly governance?: GovernanceServices;
  /**
   * `metrics.max_label_values`: the most distinct values a policy may report under one metric label
   * (e.g. the ids of gateway_budget_remaining). Absent: 100.
   */
  readonly maxLabelValues?: number;
}

export interface PolicyFactory<P = unknown> {
  /** Kebab-case type id used in config. */
  readonly type: string;
  readonly description: string;
  /** Parameter schema; config problems in params are reported with their path. */
  readonly params: z.ZodType<P>;
  create(name: string, params: P, services: PolicyServices): Policy;
}
