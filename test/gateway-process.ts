import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Real gateway processes (`switchyard serve`) and a private redis-server for multi-process tests. Each
// process gets its own loopback port and is ready once /readyz answers 200; stop() kills with SIGKILL and
// waits for the exit, so a test's finally block never leaves a process behind.

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await once(child, 'exit');
}

export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** What the process wrote to stderr (for failure messages). */
  stderr(): string;
  /** SIGKILL (default) or SIGTERM, then wait for the exit. */
  stop(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
}

/** A temporary config file; remove() deletes it and its folder. */
export function configFile(yaml: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sy-replica-'));
  const path = join(dir, 'switchyard.yaml');
  writeFileSync(path, yaml);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function spawnOnce(config: string, env: Record<string, string>, port: number): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', config, '--port', String(port)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => void (err += d.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  const proc: GatewayProcess = {
    url,
    pid: child.pid ?? -1,
    stderr: () => err,
    stop: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited(child);
    },
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`gateway exited (${child.exitCode ?? child.signalCode}): ${err}`);
    try {
      const res = await fetch(`${url}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return proc;
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
  await proc.stop();
  throw new Error(`gateway on ${url} not ready in time: ${err}`);
}

/** Starts one gateway process; retries on another port if the chosen one was taken meanwhile. */
export async function spawnGateway(config: string, env: Record<string, string>): Promise<GatewayProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(config, env, await freePort());
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('EADDRINUSE')) throw err;
    }
  }
}

/** Starts n gateway processes at once; if one fails, stops the others and rethrows. */
export async function spawnGateways(
  config: string,
  env: Record<string, string>,
  n: number,
): Promise<GatewayProcess[]> {
  const started = await Promise.allSettled(Array.from({ length: n }, () => spawnGateway(config, env)));
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(ok.map((p) => p.stop()));
    throw failed.reason;
  }
  return ok;
}

/** A throwaway redis-server (no persistence) on its own port, which a test may stop and start again. */
export class PrivateRedis {
  #child: ChildProcess | null = null;
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.#child = child;
    const deadline = Date.now() + 5_000;
    while (!(await this.#pong())) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`redis-server on port ${this.port} did not start`);
      await sleep(20);
    }
  }

  /** A crash: SIGKILL, then wait for the exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  }

  async #pong(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1');
      socket.setTimeout(500);
      const done = (ok: boolean): void => {
        socket.destroy();
        resolve(ok);
      };
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
      socket.on('error', () => done(false));
      socket.on('timeout', () => done(false));
    });
  }
}

/** The value of one Prometheus sample (0 when absent), matching every given label. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    const end = line.lastIndexOf('}');
    const set = new Map<string, string>();
    for (const m of line.slice(name.length + 1, end).matchAll(/(\w+)="([^"]*)"/g)) set.set(m[1]!, m[2]!);
    if (Object.entries(labels).every(([k, v]) => set.get(k) === v)) total += Number(line.slice(end + 1));
  }
  return total;
}
