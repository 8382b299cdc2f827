import type { EndpointView, LastScores } from '../contracts/scheduling.ts';

// The last score each scorer gave each endpoint, kept for gateway_endpoint_score. A pick calls `rows`
// once (one slot read per candidate) and then writes scores straight into `values` at row + scorer: no
// allocation, no map lookup on the hot path. Rows are indexed by the endpoint's slot, which the pool
// reuses after an endpoint leaves; `owners` remembers which endpoint wrote a row, so a newcomer never
// shows its predecessor's scores.

const INITIAL_SLOTS = 64;

export class ScoreBoard implements LastScores {
  readonly scorers: readonly string[];
  /** Scores of one endpoint: one per scorer, then the weighted total. */
  readonly stride: number;
  /** values[slot × stride + s]; NaN until written. Replaced (not mutated in place) when it grows. */
  values: Float64Array;
  private owners: (EndpointView | undefined)[];
  private offsets = new Int32Array(INITIAL_SLOTS);

  constructor(scorers: readonly string[]) {
    this.scorers = scorers;
    this.stride = scorers.length + 1;
    this.values = new Float64Array(INITIAL_SLOTS * this.stride).fill(NaN);
    this.owners = new Array<EndpointView | undefined>(INITIAL_SLOTS).fill(undefined);
  }

  /**
   * Row offsets into `values` of this pick's candidates (offsets[j] for input[j]), claiming each row for
   * its endpoint. Read `values` after this call: it may grow.
   */
  rows(input: readonly EndpointView[]): Int32Array {
    const n = input.length;
    if (this.offsets.length < n) this.offsets = new Int32Array(Math.max(n, this.offsets.length * 2));
    const offsets = this.offsets;
    for (let j = 0; j < n; j++) {
      const e = input[j]!;
      const slot = e.slot;
      if (slot >= this.owners.length) this.grow(slot + 1);
      this.owners[slot] = e;
      offsets[j] = slot * this.stride;
    }
    return offsets;
  }

  score(endpoint: EndpointView, s: number): number {
    return this.owners[endpoint.slot] === endpoint ? this.values[endpoint.slot * this.stride + s]! : NaN;
  }

  total(endpoint: EndpointView): number {
    return this.score(endpoint, this.stride - 1);
  }

  private grow(slots: number): void {
    const size = Math.max(slots, this.owners.length * 2);
    const values = new Float64Array(size * this.stride).fill(NaN);
    values.set(this.values);
    this.values = values;
    const owners = new Array<EndpointView | undefined>(size).fill(undefined);
    for (let i = 0; i < this.owners.length; i++) owners[i] = this.owners[i];
    this.owners = owners;
  }
}
