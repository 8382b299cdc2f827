// Normalisation shared by the load scorers. Raw values are written into the score buffer first, then
// turned in place into [0,1] scores where lower raw values score higher (min-max over the candidates,
// as GIE's queue scorer does: the least loaded endpoint scores 1, the most loaded 0, all equal → 1).
// Two raw markers: +Infinity = known to be full (stale telemetry) → 0; NaN = no data yet → `unknown`.

export function invertMinMax(buf: Float64Array, n: number, unknown: number): void {
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = buf[j]!;
    if (v === Infinity || Number.isNaN(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  for (let j = 0; j < n; j++) {
    const v = buf[j]!;
    if (v === Infinity) buf[j] = 0;
    else if (Number.isNaN(v)) buf[j] = unknown;
    else buf[j] = span > 0 ? (max - v) / span : 1;
  }
}

/** Scale raw non-negative values by their maximum: the largest scores 1 (used for free capacity). */
export function scaleByMax(buf: Float64Array, n: number): void {
  let max = 0;
  for (let j = 0; j < n; j++) if (buf[j]! > max) max = buf[j]!;
  for (let j = 0; j < n; j++) buf[j] = max > 0 ? buf[j]! / max : 0;
}
