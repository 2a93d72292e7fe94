/**
 * CPU and memory of other processes (the servers under load), read from /proc: CPU as
 * utime + stime of /proc/<pid>/stat over a window, resident memory as VmRSS of /proc/<pid>/status.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(out.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export interface ProcessWindow {
  /** Per process: CPU as a percentage of one core over the window, and the highest RSS seen. */
  stop(): { cpuPct: number[]; peakRssMb: number[]; seconds: number };
}

/** Starts measuring: CPU from now to stop(), RSS sampled every `everyMs` (peak kept). */
export function measureProcesses(pids: readonly number[], everyMs = 500): ProcessWindow {
  const started = performance.now();
  const cpuStart = pids.map(cpuSeconds);
  const peak = pids.map(rssMb);
  const sample = () => {
    pids.forEach((pid, i) => {
      try {
        peak[i] = Math.max(peak[i] ?? 0, rssMb(pid));
      } catch {
        // the process is gone; its peak stays
      }
    });
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const seconds = (performance.now() - started) / 1000;
      const cpuPct = pids.map((pid, i) => {
        try {
          return ((cpuSeconds(pid) - (cpuStart[i] ?? 0)) / seconds) * 100;
        } catch {
          return Number.NaN;
        }
      });
      return { cpuPct, peakRssMb: peak, seconds };
    },
  };
}
