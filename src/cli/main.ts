import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.ts';
import { ConfigError, formatProblems } from '../config/problems.ts';
import { serve } from './serve.ts';
import { SIM_ENDPOINTS_VAR } from './embedded-sim.ts';

// The switchyard command line.

const HELP = `switchyard: an AI traffic gateway

Usage:
  switchyard serve --config FILE [--port N]   start the gateway
  switchyard check --config FILE              validate a config file, print every problem
  switchyard sim [--replicas N] [--port P]    a fleet of simulated vLLM-like model servers (sim --help)
  switchyard keys create|list|revoke|usage    manage virtual keys through the admin API (keys --help)
  switchyard --help                           this text

Environment variables referenced as \${NAME} or \${NAME:-default} in the config are substituted.
Reload: send SIGHUP or edit the file. Stop: SIGTERM drains in-flight requests first.
Docs: README.md and docs/ in the repository.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined ? 1 : 0;
  }
  if (command === 'keys') {
    const { runKeys } = await import('./keys.ts');
    return runKeys(rest);
  }
  if (command === 'sim') {
    const { runSim } = await import('../sim/index.ts');
    await runSim(rest);
    return 0;
  }
  if (command === 'serve' || command === 'check') {
    const { values } = parseArgs({
      args: rest,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.config === undefined) {
      process.stderr.write(`switchyard ${command}: --config FILE is required\n\n${HELP}`);
      return 2;
    }
    if (command === 'check') {
      // A config with an embedded simulator names its endpoints through this variable; any URL will do here.
      process.env[SIM_ENDPOINTS_VAR] ??= 'http://127.0.0.1:9';
      await loadConfigFile(values.config);
      process.stdout.write(`${values.config}: ok\n`);
      return 0;
    }
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
      process.stderr.write(`switchyard serve: --port must be a port number, got '${values.port}'\n`);
      return 2;
    }
    await serve({ config: values.config, ...(port !== undefined ? { port } : {}) });
    return -1; // keep running
  }
  process.stderr.write(`switchyard: unknown command '${command}'\n\n${HELP}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`${formatProblems(err)}\n${err.message}\n`);
    else process.stderr.write(`switchyard: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
