/**
 * The server under fuzz: `node --unhandled-rejections=strict dist/server/main.js` on a free
 * loopback port, its stdout (pino logs) and stderr captured, its RSS sampled every second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../server/paths.js';
import { freePort } from './server-process.js';

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of stderr (the stack of an uncaught exception or unhandled rejection). */
  stderrTail: string;
  unhandledRejection: boolean;
}

export interface ErrorLog {
  msg: string;
  err: string;
  line: string;
}

export interface FuzzServer {
  url: string;
  wsUrl: string;
  pid: number;
  child: ChildProcess;
  /** RSS samples in MB, one a second since start. */
  rss: number[];
  /** Set once the process exited (by itself or by stop()). */
  exit: ServerExit | null;
  /** Epoch ms of the exit. */
  exitAt: number | null;
  /** Called when the process exits without stop() having been called. */
  onCrash: ((exit: ServerExit) => void) | null;
  /** Called for every log line at level error or fatal. */
  onErrorLog: ((log: ErrorLog) => void) | null;
  alive(): boolean;
  /** SIGTERM (drain), SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  kill(): void;
}

export function readRssMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const TAIL = 64 * 1024;

export async function startFuzzServer(env: Record<string, string>): Promise<FuzzServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--unhandled-rejections=strict', path.join(projectRoot(), 'dist/server/main.js')], {
    cwd: projectRoot(),
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn the server');
  let stderr = '';
  let stopping = false;
  let pending = '';
  const server: FuzzServer = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    pid: child.pid,
    child,
    rss: [],
    exit: null,
    exitAt: null,
    onCrash: null,
    onErrorLog: null,
    alive: () => server.exit === null && child.exitCode === null && child.signalCode === null,
    stop(graceMs = 8000) {
      stopping = true;
      return new Promise((resolve) => {
        if (!server.alive()) return resolve(child.exitCode);
        const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', (code) => {
          clearTimeout(force);
          resolve(code);
        });
        child.kill('SIGTERM');
      });
    },
    kill() {
      stopping = true;
      if (server.alive()) child.kill('SIGKILL');
    },
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-TAIL);
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    if (pending.length > TAIL) pending = pending.slice(-TAIL);
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string; type?: string; stack?: string } };
        if ((entry.level ?? 0) >= 50) server.onErrorLog?.({ msg: entry.msg ?? '', err: `${entry.err?.type ?? ''}: ${entry.err?.message ?? ''}`, line: line.slice(0, 1500) });
      } catch {
        // not a log line
      }
    }
  });
  const sampler = setInterval(() => {
    const mb = readRssMb(child.pid ?? 0);
    if (mb !== null && server.alive()) server.rss.push(mb);
  }, 1000);
  sampler.unref();
  child.once('exit', (code, signal) => {
    server.exitAt = Date.now();
    clearInterval(sampler);
    // the stream may still hold the last bytes; give it a tick
    setImmediate(() => {
      server.exit = {
        code,
        signal,
        stderrTail: stderr.slice(-6000),
        unhandledRejection: /fromPromise|UnhandledPromiseRejection|unhandled rejection/i.test(stderr),
      };
      if (!stopping) server.onCrash?.(server.exit);
    });
  });

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!server.alive()) throw new Error(`server exited during start-up (${child.exitCode}): ${stderr.slice(-2000)}`);
    try {
      const response = await fetch(`${server.url}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      server.kill();
      throw new Error('server did not become ready within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const first = readRssMb(server.pid);
  if (first !== null) server.rss.push(first);
  return server;
}
