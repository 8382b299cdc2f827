import { mergeSimOptions, resolveSimOptions, type SimOptions } from './options.ts';
import { startSimulator, type SimServer } from './server.ts';

// A fleet of simulated servers for pools and benchmarks. Instance i gets the shared options merged with
// overrides[i] (heterogeneous fleets: a slower GPU, a smaller cache, a faulty replica). With a fixed
// base port, instances take consecutive ports; with a seed, instance i uses seed + i so replicas do not
// fail in lockstep.

export async function startFleet(
  count: number,
  options: SimOptions = {},
  overrides: readonly SimOptions[] = [],
): Promise<SimServer[]> {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`fleet size must be a positive integer, got ${count}`);
  const base = resolveSimOptions(options);
  const started: SimServer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const own = overrides[i] ?? {};
      const port = own.port ?? (base.port === 0 ? 0 : base.port + i);
      const seed = own.seed ?? (base.seed === null ? null : base.seed + i);
      const config = mergeSimOptions(base, { ...own, port, seed });
      started.push(await startSimulator(config));
    }
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
  return started;
}

/** Close every server of a fleet. */
export async function closeFleet(fleet: readonly SimServer[]): Promise<void> {
  await Promise.all(fleet.map((s) => s.close()));
}
