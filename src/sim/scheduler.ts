import { performance } from 'node:perf_hooks';
import { EngineStats } from './engine-stats.ts';
import { GpuBusy } from './gpu-busy.ts';
import { KvCache } from './kv-cache.ts';
import type { SimConfig } from './options.ts';
import { stepMs } from './perf.ts';
import { Sequence, type SeqRequest } from './sequence.ts';

// Continuous batching after vLLM's V1 scheduler. Each step has a token budget (max_num_batched_tokens):
// running sequences go first (one token each when decoding, a chunk when prefilling), then waiting
// ones are admitted in arrival order while fewer than max_num_seqs run and their blocks fit, reusing
// cached prefix blocks. A running sequence that needs a block when none is free preempts the newest
// running one (recompute: its blocks are released, it returns to the front of the queue).
//
// Time is virtual: a step starts when the previous one ends and lasts stepMs × timeScale. One timer per
// engine fires when the next step is due; a tick completes every step due by then (bounded), so small
// time scales batch many steps into one tick, and each touched sink is flushed once per tick.

const MAX_STEPS_PER_TICK = 64;

interface Step {
  readonly startAt: number;
  readonly endAt: number;
  readonly seqs: Sequence[];
  readonly tokens: number[];
}

export class Scheduler {
  readonly config: SimConfig;
  readonly kv: KvCache;
  readonly stats = new EngineStats();
  private readonly busy = new GpuBusy();
  private readonly waiting: Sequence[] = [];
  private readonly running: Sequence[] = [];
  private readonly loras = new Map<string, number>();
  private readonly touched: Sequence[] = [];
  private readonly now: () => number;
  private pending: Step | null = null;
  private lastEnd = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;

  constructor(config: SimConfig, now: () => number = () => performance.now()) {
    this.config = config;
    this.kv = new KvCache(config.numGpuBlocks, config.blockSize, config.enablePrefixCaching);
    this.now = now;
  }

  get numRunning(): number {
    return this.running.length;
  }
  get numWaiting(): number {
    return this.waiting.length;
  }

  /** Adapters with running (or waiting) sequences, in first-seen order. */
  adapters(which: 'running' | 'waiting'): string[] {
    const names = new Set<string>();
    for (const seq of which === 'running' ? this.running : this.waiting)
      if (seq.request.lora !== null) names.add(seq.request.lora);
    return [...names];
  }

  /** Share (0..1) of the last simulated second during which a step ran: DCGM's GPU utilisation. */
  gpuUtilization(): number {
    return this.busy.fraction(this.now(), 1000 * this.config.timeScale, this.pending);
  }

  /** Sum over running sequences of prompt + max output tokens (TGI's batch_current_max_tokens). */
  runningMaxTokens(): number {
    let sum = 0;
    for (const seq of this.running) sum += seq.request.prompt.count + seq.request.maxTokens;
    return sum;
  }

  submit(request: SeqRequest): Sequence {
    const seq = new Sequence(request, this.now());
    if (this.closed) {
      seq.state = 'aborted';
      return seq;
    }
    this.waiting.push(seq);
    // Start on the next turn so a burst of arrivals lands in one step.
    if (this.pending === null && this.immediate === null) this.immediate = setImmediate(this.tick);
    return seq;
  }

  /** The client went away: drop the sequence and free its blocks. */
  abort(seq: Sequence): void {
    if (seq.state === 'waiting') remove(this.waiting, seq);
    else if (seq.state === 'running') this.stopRunning(seq);
    else return;
    seq.state = 'aborted';
    this.stats.finished.abort++;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.pending = null;
    for (const seq of [...this.running, ...this.waiting]) this.abort(seq);
  }

  private readonly tick = (): void => {
    this.timer = null;
    this.immediate = null;
    if (this.closed) return;
    const now = this.now();
    // After idling, the step starts when the oldest request arrived, not when this callback ran: the
    // wake-up latency is an artefact of the simulator (and large at small time scales).
    if (this.pending === null)
      this.pending = this.plan(Math.max(this.lastEnd, this.waiting[0]?.arrivedAt ?? now));
    for (let n = 0; this.pending !== null && this.pending.endAt <= now && n < MAX_STEPS_PER_TICK; n++) {
      const step = this.pending;
      this.complete(step);
      this.pending = this.plan(step.endAt);
    }
    for (const seq of this.touched.splice(0)) {
      seq.touched = false;
      seq.request.sink.flush();
    }
    if (this.pending === null) return;
    const delay = this.pending.endAt - this.now();
    if (delay <= 0) this.immediate = setImmediate(this.tick);
    else this.timer = setTimeout(this.tick, Math.max(delay, this.config.minTickMs));
  };

  /** Choose the batch of a step starting at `t`; null when there is nothing to run. */
  private plan(t: number): Step | null {
    const { blockSize, maxNumSeqs, maxLoras } = this.config;
    const seqs: Sequence[] = [];
    const tokens: number[] = [];
    let budget = this.config.maxNumBatchedTokens;
    let preempted = false;
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const seq = this.running[i];
      if (seq === undefined) break;
      const n = Math.min(seq.total - seq.computed, budget);
      const need = Math.ceil((seq.computed + n) / blockSize) - seq.blocks.length;
      let victim: Sequence | undefined;
      while (need > 0 && victim !== seq && !this.kv.allocate(need, seq.blocks)) {
        victim = this.running[this.running.length - 1];
        if (victim === undefined) break;
        this.preempt(victim);
        preempted = true;
      }
      if (victim === seq) break;
      seqs.push(seq);
      tokens.push(n);
      budget -= n;
    }
    for (
      let i = 0;
      !preempted && i < this.waiting.length && budget > 0 && this.running.length < maxNumSeqs;
    ) {
      const seq = this.waiting[i];
      if (seq === undefined || seq.arrivedAt > t) break;
      const lora = seq.request.lora;
      if (lora !== null && !this.loras.has(lora) && this.loras.size >= maxLoras) {
        i++; // its adapter cannot join the batch yet; later requests may
        continue;
      }
      const hits = this.kv.matchPrefix(seq.hashes, Math.floor((seq.total - 1) / blockSize));
      const hitTokens = hits.length * blockSize;
      const n = Math.min(seq.total - hitTokens, budget);
      const need = Math.ceil((hitTokens + n) / blockSize) - hits.length;
      if (!this.kv.canAllocate(need, hits)) break; // first come, first served: later ones wait too
      this.kv.touch(hits);
      seq.blocks.push(...hits);
      this.kv.allocate(need, seq.blocks);
      seq.computed = hitTokens;
      seq.registered = hits.length;
      if (seq.cachedTokens < 0) {
        seq.cachedTokens = hitTokens;
        this.stats.prefixQueries += seq.request.prompt.count;
        this.stats.prefixHits += Math.min(hitTokens, seq.request.prompt.count);
        this.stats.queue.observe(this.seconds(t - seq.arrivedAt));
        seq.firstScheduledAt = t;
      }
      this.waiting.splice(i, 1);
      this.startRunning(seq);
      seqs.push(seq);
      tokens.push(n);
      budget -= n;
    }
    if (seqs.length === 0) {
      const next = this.running.length === 0 ? this.waiting[0] : undefined;
      if (next === undefined) return null;
      // Nothing runs: wait for the next arrival, or (everything was just preempted) admit afresh.
      if (next.arrivedAt > t) return this.plan(next.arrivedAt);
      return preempted ? this.plan(t) : null;
    }
    let prefill = 0;
    let context = 0;
    for (let k = 0; k < seqs.length; k++) {
      const n = tokens[k] ?? 0;
      const seq = seqs[k];
      if (seq !== undefined && (n > 1 || seq.output === 0)) prefill += n;
      context += (seq?.computed ?? 0) + n;
    }
    const ms = stepMs(this.config.perf, {
      seqs: seqs.length,
      prefillTokens: prefill,
      contextTokens: context,
    });
    return { startAt: t, endAt: t + ms * this.config.timeScale, seqs, tokens };
  }

  /** Apply a finished step: advance computation, register full blocks, emit tokens, finish sequences. */
  private complete(step: Step): void {
    const { blockSize } = this.config;
    this.stats.steps++;
    this.lastEnd = step.endAt;
    this.busy.add(step.startAt, step.endAt);
    for (let k = 0; k < step.seqs.length; k++) {
      const seq = step.seqs[k];
      if (seq === undefined || seq.state !== 'running') continue; // aborted or preempted meanwhile
      seq.computed += step.tokens[k] ?? 0;
      const full = Math.min(Math.floor(seq.computed / blockSize), seq.hashes.length);
      for (let b = seq.registered; b < full; b++) this.kv.register(seq.blocks[b] ?? -1, seq.hashes[b] ?? -1);
      seq.registered = Math.max(seq.registered, full);
      if (seq.computed < seq.total) continue; // prefill chunk, no token yet
      if (seq.firstTokenAt < 0) {
        seq.firstTokenAt = step.endAt;
        this.stats.ttft.observe(this.seconds(step.endAt - seq.arrivedAt));
        this.stats.promptTokens += seq.request.prompt.count;
      }
      seq.request.sink.token(seq.emit(blockSize));
      this.stats.generationTokens++;
      if (seq.output >= seq.request.maxTokens) this.finish(seq, step.endAt);
      if (!seq.touched) {
        seq.touched = true;
        this.touched.push(seq);
      }
    }
  }

  private finish(seq: Sequence, at: number): void {
    this.stopRunning(seq);
    seq.state = 'finished';
    const reason = seq.request.finishReason;
    this.stats.finished[reason]++;
    this.stats.e2e.observe(this.seconds(at - seq.arrivedAt));
    seq.request.sink.finish(reason, seq.usage());
  }

  private preempt(seq: Sequence): void {
    this.stopRunning(seq);
    seq.state = 'waiting';
    seq.computed = 0;
    seq.registered = 0;
    this.waiting.unshift(seq);
    this.stats.preemptions++;
  }

  private startRunning(seq: Sequence): void {
    seq.state = 'running';
    this.running.push(seq);
    const lora = seq.request.lora;
    if (lora !== null) this.loras.set(lora, (this.loras.get(lora) ?? 0) + 1);
  }

  private stopRunning(seq: Sequence): void {
    remove(this.running, seq);
    this.kv.release(seq.blocks);
    seq.blocks.length = 0;
    const lora = seq.request.lora;
    if (lora === null) return;
    const left = (this.loras.get(lora) ?? 1) - 1;
    if (left > 0) this.loras.set(lora, left);
    else this.loras.delete(lora);
  }

  private seconds(wallMs: number): number {
    return wallMs / this.config.timeScale / 1000;
  }
}

function remove<T>(list: T[], item: T): void {
  const i = list.lastIndexOf(item);
  if (i !== -1) list.splice(i, 1);
}
