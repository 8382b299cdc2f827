// Bounds the distinct values of one metric label. Each value a client can steer (which model, route,
// target or endpoint a request lands on) costs one time series per metric it labels, for as long as the
// process lives; past `max` distinct values, new ones are counted under OTHER. Values are admitted first
// come, first served, and stay admitted until a restart, so a series never changes its meaning.

/** The label value that stands for every value beyond the cap. */
export const OTHER = 'other';

export class LabelCap {
  readonly max: number;
  private readonly admitted = new Set<string>();

  constructor(max: number) {
    this.max = max;
  }

  /** `value` itself while it is (or can still be) admitted, else OTHER. One Set lookup when admitted. */
  fold(value: string): string {
    if (this.admitted.has(value)) return value;
    if (this.admitted.size >= this.max) return OTHER;
    this.admitted.add(value);
    return value;
  }

  /** Distinct values admitted so far. */
  get size(): number {
    return this.admitted.size;
  }
}

/** The labels whose values come from requests (through config names or discovery), each capped alike. */
export interface LabelCaps {
  readonly model: LabelCap;
  readonly route: LabelCap;
  readonly target: LabelCap;
  readonly endpoint: LabelCap;
}

export function labelCaps(max: number): LabelCaps {
  return {
    model: new LabelCap(max),
    route: new LabelCap(max),
    target: new LabelCap(max),
    endpoint: new LabelCap(max),
  };
}
