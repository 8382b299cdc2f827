import { watch, type FSWatcher } from 'node:fs';
import { loadConfigFile } from '../config/load.ts';
import { ConfigError, formatProblems } from '../config/problems.ts';
import { Gateway } from '../server/gateway.ts';
import { startEmbeddedSimulator } from './embedded-sim.ts';

// `switchyard serve`: start the gateway, reload on SIGHUP and when the file changes (a bad file keeps
// the running config and says why), drain on SIGTERM/SIGINT.

export interface ServeOptions {
  readonly config: string;
  readonly port?: number;
}

export async function serve(options: ServeOptions): Promise<Gateway> {
  const stopSim = await startEmbeddedSimulator(options.config);
  const config = await loadConfigFile(options.config);
  const gateway = await Gateway.start({
    config,
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  const log = gateway.logger;
  log.info({ url: gateway.url, config: options.config }, 'switchyard listening');

  let reloading: Promise<void> = Promise.resolve();
  const reload = (why: string): void => {
    reloading = reloading.then(async () => {
      try {
        gateway.reload(await loadConfigFile(options.config));
        log.info({ trigger: why }, 'reload applied');
      } catch (err) {
        const detail = err instanceof ConfigError ? formatProblems(err) : String(err);
        log.error({ trigger: why, problems: detail }, 'reload rejected; keeping the running configuration');
      }
    });
  };

  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.config, () => {
      clearTimeout(timer);
      timer = setTimeout(() => reload('file-change'), 150);
    });
  } catch (err) {
    log.warn({ err }, 'cannot watch the config file; reload with SIGHUP');
  }
  process.on('SIGHUP', () => reload('SIGHUP'));

  const stop = (signal: string): void => {
    log.info({ signal }, 'draining');
    watcher?.close();
    clearTimeout(timer);
    void gateway
      .shutdown()
      .then(() => stopSim?.())
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return gateway;
}
