// The simulated model server's public surface.
export { runSim, parseSimArgs, SIM_HELP, type SimCliIo } from './cli.ts';
export { startFleet, closeFleet } from './fleet.ts';
export {
  DEFAULT_SIM_CONFIG,
  resolveSimOptions,
  mergeSimOptions,
  type SimConfig,
  type SimOptions,
  type SimEngine,
  type SimPerf,
  type SimFaults,
  type SimOutputLength,
} from './options.ts';
export { startSimulator, type SimServer, type SimStats } from './server.ts';
