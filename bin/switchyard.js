#!/usr/bin/env node
// Launcher for the switchyard command. The sources are TypeScript run directly by Node 24's type
// stripping. When this file is started by an older Node (for example the machine's own), it re-runs
// itself on the Node 24 that the project pins as a devDependency.
//
// It also starts the gateway with the runtime settings it is tuned for (docs/configuration.md, "Runtime"):
// - a young generation of at most 8 MB per semi-space (V8's default lets it grow to 64 MB under load,
//   which multiplies the resident memory of a proxy whose objects mostly die with their request);
// - glibc malloc limited to 2 arenas (sockets and buffers are freed from several threads; more arenas
//   fragment into memory that is never returned);
// - the module compile cache, so the TypeScript sources are stripped and compiled once, not at every start.
// Flags already given (in NODE_OPTIONS or on the command line) win; SWITCHYARD_RUNTIME_TUNING=off skips it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..');
const main = join(root, 'src', 'cli', 'main.ts');
const major = Number(process.versions.node.split('.')[0]);

const tuning = process.env.SWITCHYARD_RUNTIME_TUNING !== 'off';
const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const flags = given.some((a) => a.startsWith('--max-semi-space-size')) ? [] : ['--max-semi-space-size=8'];
const env = { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', SWITCHYARD_TUNED: '1' };

if (major >= 24) {
  if (tuning && process.env.SWITCHYARD_TUNED !== '1' && typeof process.execve === 'function') {
    // Same process (pid, signals, stdio), restarted with the settings: nothing runs after this call.
    process.execve(
      process.execPath,
      [process.execPath, ...process.execArgv, ...flags, self, ...process.argv.slice(2)],
      env,
    );
  }
  enableCompileCache();
  await import(main);
} else {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(
      `switchyard needs Node.js 24 (found ${process.version}); run npm install to fetch the pinned one.`,
    );
    process.exit(1);
  }
  const child = spawn(pinned, [...(tuning ? flags : []), self, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: tuning ? env : process.env,
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
