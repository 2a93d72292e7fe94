import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { projectRoot } from '../server/paths.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ServerProcess {
  url: string;
  wsUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the built server (dist/) as a separate process on a free loopback port and waits for /readyz; `nodeArgs` go to node before the script (e.g. --cpu-prof). */
export async function startServerProcess(env: Record<string, string> = {}, nodeArgs: readonly string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, path.join(projectRoot(), 'dist/server/main.js')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      // Every simulated client comes from 127.0.0.1: the per-address limits would refuse them all.
      WIDGET_NEW_CONVERSATIONS_PER_MINUTE: '100000',
      WIDGET_CONNECTIONS_PER_ADDRESS: '100000',
      HTTP_RATE_LIMIT_PER_MINUTE: '100000',
      SIGNIN_RATE_LIMIT_PER_MINUTE: '100000',
      ...env,
    },
    // The server's own output goes to stderr, so a benchmark's stdout stays its one JSON line.
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout?.pipe(process.stderr);
  return whenReady(child, port, 'server', 30_000);
}

/** Waits until a child process serving on `port` answers /readyz, and returns its handle (stop = SIGTERM, then its exit). */
export async function whenReady(child: ChildProcess, port: number, what: string, timeoutMs: number): Promise<ServerProcess> {
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
