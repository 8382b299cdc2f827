import type {
  CycleState,
  EndpointView,
  Filter,
  Picker,
  Profile,
  SchedulingRequest,
  WeightedScorer,
} from '../contracts/scheduling.ts';
import { ScoreBoard } from './score-board.ts';

// One scheduling profile: filters narrow the endpoints, each scorer rates the survivors in [0,1], the
// framework sums score × weight, and the picker chooses. Scratch space (two candidate arrays, one score
// buffer per scorer, the totals) belongs to the profile and is reused by every pick: a pick is
// synchronous, so no two picks ever share it at once. The explanation is built only when asked for.
// Each pick also leaves its scores in the score board (preallocated, indexed by endpoint slot) for the
// gateway_endpoint_score metrics, read at scrape time.

const ROUND = 1e4;
const NO_ROWS = new Int32Array(0);

function round(v: number): number {
  return Math.round(v * ROUND) / ROUND;
}

export function emptyCycleState(): CycleState {
  return { profile: '', filters: [], weights: {}, candidates: [], chosen: null, reason: '' };
}

export class SchedulingProfile implements Profile {
  readonly name: string;
  readonly filters: readonly Filter[];
  readonly scorers: readonly WeightedScorer[];
  readonly picker: Picker;
  readonly lastScores: ScoreBoard;
  private readonly ping: EndpointView[] = [];
  private readonly pong: EndpointView[] = [];
  private buffers: Float64Array[];
  private totals: Float64Array;

  constructor(
    name: string,
    parts: { filters: readonly Filter[]; scorers: readonly WeightedScorer[]; picker: Picker },
  ) {
    this.name = name;
    this.filters = parts.filters;
    this.scorers = parts.scorers;
    this.picker = parts.picker;
    this.buffers = parts.scorers.map(() => new Float64Array(64));
    this.totals = new Float64Array(64);
    this.lastScores = new ScoreBoard(parts.scorers.map((s) => s.scorer.name));
  }

  pick(
    req: SchedulingRequest,
    endpoints: readonly EndpointView[],
    explain: CycleState | null,
  ): EndpointView | null {
    if (explain !== null) explain.profile = this.name;
    let input = endpoints;
    for (const filter of this.filters) {
      if (input.length === 0) break;
      const out = input === this.ping ? this.pong : this.ping;
      out.length = 0;
      filter.filter(req, input, out);
      if (explain !== null) explain.filters.push({ name: filter.name, kept: out.length });
      input = out;
    }
    const n = input.length;
    if (n === 0) {
      if (explain !== null) explain.reason = 'no endpoint passed the filters';
      return null;
    }
    if (this.totals.length < n) this.grow(n);
    const totals = this.totals;
    totals.fill(0, 0, n);
    const count = this.scorers.length;
    // Scores for the metrics: written straight into the board's rows (nothing to keep without scorers).
    const rows = count === 0 ? NO_ROWS : this.lastScores.rows(input);
    const board = this.lastScores.values;
    for (let s = 0; s < count; s++) {
      const { scorer, weight } = this.scorers[s]!;
      if (weight === 0 && explain === null) continue;
      const buf = this.buffers[s]!;
      scorer.score(req, input, buf);
      for (let j = 0; j < n; j++) {
        const raw = buf[j]!;
        const v = raw > 1 ? 1 : raw > 0 ? raw : 0; // clamps, and NaN becomes 0
        buf[j] = v;
        board[rows[j]! + s] = v;
        totals[j]! += v * weight;
      }
    }
    if (count > 0) for (let j = 0; j < n; j++) board[rows[j]! + count] = totals[j]!;
    const index = n === 1 ? 0 : this.picker.pick(req, input, totals);
    const chosen = input[index] ?? input[0]!;
    for (const { scorer } of this.scorers) scorer.onPicked?.(req, chosen);
    if (explain !== null) this.explain(explain, input, index);
    return chosen;
  }

  private grow(n: number): void {
    const size = Math.max(n, this.totals.length * 2);
    this.totals = new Float64Array(size);
    this.buffers = this.scorers.map(() => new Float64Array(size));
  }

  private explain(out: CycleState, input: readonly EndpointView[], index: number): void {
    let best = -Infinity;
    for (const { scorer, weight } of this.scorers) out.weights[scorer.name] = weight;
    for (let j = 0; j < input.length; j++) {
      const scores: Record<string, number> = {};
      for (let s = 0; s < this.scorers.length; s++)
        scores[this.scorers[s]!.scorer.name] = round(this.buffers[s]![j]!);
      const total = this.totals[j]!;
      if (total > best) best = total;
      out.candidates.push({ endpoint: input[j]!.id, scores, total: round(total) });
    }
    const chosen = input[index]!;
    out.chosen = chosen.id;
    const total = this.totals[index]!;
    out.reason =
      this.scorers.length === 0
        ? `${this.picker.name} chose ${chosen.id} from ${input.length} candidates`
        : `${this.picker.name} chose ${chosen.id} (total ${round(total)}, best ${round(best)}) from ${input.length} candidates`;
  }
}
