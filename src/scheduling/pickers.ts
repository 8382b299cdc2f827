import { z } from 'zod';
import type { EndpointView, Picker, SchedulingRequest } from '../contracts/scheduling.ts';
import { definePlugin, type AnyFactory } from './registry.ts';

// Pickers choose one candidate from the weighted totals. max-score and weighted-random are the
// profile pickers; random, round-robin and least-requests ignore the scores and exist as baselines
// (a plain Kubernetes Service, a classic least-connections balancer) for benchmarks and comparison.

/** Totals within this distance count as a tie (sums of products are not exact). */
const TIE = 1e-9;

export type Random = () => number;

/** A picker that draws random numbers (from `random`, which tests make deterministic). */
abstract class RandomizedPicker implements Picker {
  abstract readonly type: string;
  readonly name: string;
  protected readonly random: Random;

  constructor(name: string, random: Random = Math.random) {
    this.name = name;
    this.random = random;
  }

  abstract pick(req: SchedulingRequest, candidates: readonly EndpointView[], totals: Float64Array): number;
}

/** Highest total; ties broken uniformly at random (reservoir sampling over the tied candidates). */
export class MaxScorePicker extends RandomizedPicker {
  readonly type = 'max-score';
  pick(_req: SchedulingRequest, candidates: readonly EndpointView[], totals: Float64Array): number {
    let best = 0;
    let bestScore = totals[0]!;
    let ties = 1;
    for (let j = 1; j < candidates.length; j++) {
      const t = totals[j]!;
      if (t > bestScore + TIE) {
        best = j;
        bestScore = t;
        ties = 1;
      } else if (t >= bestScore - TIE && this.random() * ++ties < 1) {
        best = j;
      }
    }
    return best;
  }
}

/** Chance proportional to the total; uniform when every total is 0. */
export class WeightedRandomPicker extends RandomizedPicker {
  readonly type = 'weighted-random';
  pick(_req: SchedulingRequest, candidates: readonly EndpointView[], totals: Float64Array): number {
    const n = candidates.length;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += totals[j]!;
    if (!(sum > 0)) return Math.floor(this.random() * n);
    let r = this.random() * sum;
    for (let j = 0; j < n; j++) {
      r -= totals[j]!;
      if (r < 0) return j;
    }
    return n - 1;
  }
}

export class RandomPicker extends RandomizedPicker {
  readonly type = 'random';
  pick(_req: SchedulingRequest, candidates: readonly EndpointView[]): number {
    return Math.floor(this.random() * candidates.length);
  }
}

/** Each candidate in turn (the counter is the picker's only state). */
export class RoundRobinPicker implements Picker {
  readonly type = 'round-robin';
  readonly name: string;
  private next = 0;

  constructor(name: string) {
    this.name = name;
  }

  pick(_req: SchedulingRequest, candidates: readonly EndpointView[]): number {
    const i = this.next % candidates.length;
    this.next = (this.next + 1) % 1_000_000_007;
    return i;
  }
}

/** Fewest requests in flight from this gateway; ties at random. */
export class LeastRequestsPicker extends RandomizedPicker {
  readonly type = 'least-requests';
  pick(_req: SchedulingRequest, candidates: readonly EndpointView[]): number {
    let best = 0;
    let least = candidates[0]!.inFlight;
    let ties = 1;
    for (let j = 1; j < candidates.length; j++) {
      const v = candidates[j]!.inFlight;
      if (v < least) {
        best = j;
        least = v;
        ties = 1;
      } else if (v === least && this.random() * ++ties < 1) {
        best = j;
      }
    }
    return best;
  }
}

const none = z.strictObject({}).prefault({});

function factory(type: string, description: string, make: (name: string) => Picker): AnyFactory {
  return definePlugin<'picker', object>({
    type,
    kind: 'picker',
    description,
    params: none,
    create: (name) => make(name),
  });
}

export const pickerFactories = [
  factory('max-score', 'The highest total score; ties at random.', (n) => new MaxScorePicker(n)),
  factory(
    'weighted-random',
    'At random, with chances proportional to the total scores.',
    (n) => new WeightedRandomPicker(n),
  ),
  factory('random', 'Uniformly at random (baseline).', (n) => new RandomPicker(n)),
  factory(
    'round-robin',
    'Each candidate in turn (baseline: a plain Service).',
    (n) => new RoundRobinPicker(n),
  ),
  factory(
    'least-requests',
    'Fewest requests in flight from this gateway (baseline).',
    (n) => new LeastRequestsPicker(n),
  ),
];
