// How busy the simulated GPU has been: the share of a recent window during which an engine step was
// running. This is what DCGM's DCGM_FI_DEV_GPU_UTIL measures on a real GPU (the share of the sample
// period in which at least one kernel ran), and it is exact here: a step occupies the GPU from its start
// to its end, and steps run back to back while there is work. Busy periods are kept as merged intervals
// in a small ring (back-to-back steps extend one interval), so a fully busy window is one entry.

const CAPACITY = 256;

export class GpuBusy {
  private readonly starts = new Float64Array(CAPACITY);
  private readonly ends = new Float64Array(CAPACITY);
  /** Index of the newest interval; -1 while there is none. */
  private newest = -1;
  private count = 0;

  /** Record a finished step that occupied the GPU over [start, end) (wall ms). */
  add(start: number, end: number): void {
    if (!(end > start)) return;
    if (this.newest >= 0 && start <= this.ends[this.newest]!) {
      if (end > this.ends[this.newest]!) this.ends[this.newest] = end;
      return;
    }
    this.newest = (this.newest + 1) % CAPACITY;
    this.starts[this.newest] = start;
    this.ends[this.newest] = end;
    if (this.count < CAPACITY) this.count++;
  }

  /**
   * Busy fraction 0..1 of [now − windowMs, now]. `running` is the step in progress, if any: its time up
   * to `now` counts too.
   */
  fraction(
    now: number,
    windowMs: number,
    running: { readonly startAt: number; readonly endAt: number } | null,
  ): number {
    if (!(windowMs > 0)) return 0;
    const from = now - windowMs;
    let busy = 0;
    let i = this.newest;
    for (let n = 0; n < this.count; n++) {
      const end = Math.min(this.ends[i]!, now);
      if (end <= from) break; // older intervals end earlier still
      const start = Math.max(this.starts[i]!, from);
      if (end > start) busy += end - start;
      i = (i - 1 + CAPACITY) % CAPACITY;
    }
    if (running !== null) {
      // The running step starts where the last recorded one ended (or later): no double counting.
      const start = Math.max(running.startAt, from, this.newest >= 0 ? this.ends[this.newest]! : -Infinity);
      const end = Math.min(running.endAt, now);
      if (end > start) busy += end - start;
    }
    return Math.min(1, busy / windowMs);
  }
}
