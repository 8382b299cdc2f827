import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { closeFleet, startFleet } from '../sim/index.ts';
import type { SimOptions } from '../sim/options.ts';

// The `simulator:` section of a config: a fleet of simulated model servers started in this process
// before the config is loaded, so the config can point a pool at ${SWITCHYARD_SIM_ENDPOINTS}.

export const SIM_ENDPOINTS_VAR = 'SWITCHYARD_SIM_ENDPOINTS';

interface SimulatorSection {
  replicas?: number;
  model?: string;
  time_scale?: number;
  engine?: 'vllm' | 'sglang' | 'tgi';
  options?: Record<string, unknown>;
}

/** Start the fleet a config file asks for (if any); returns a stop function. */
export async function startEmbeddedSimulator(file: string): Promise<(() => Promise<void>) | null> {
  let raw: unknown;
  try {
    raw = parse(await readFile(file, 'utf8'));
  } catch {
    return null; // the real load reports the problem with its path
  }
  const section = (raw as { simulator?: SimulatorSection } | null)?.simulator;
  if (section === undefined || section === null || typeof section !== 'object') return null;
  const options: SimOptions = {
    ...(section.options as SimOptions | undefined),
    model: section.model ?? 'sim-model',
    timeScale: Number(section.time_scale ?? 1),
    engine: section.engine ?? 'vllm',
  };
  const fleet = await startFleet(Number(section.replicas ?? 4), options);
  process.env[SIM_ENDPOINTS_VAR] = fleet.map((s) => s.url).join(',');
  return () => closeFleet(fleet);
}
