// Per-process figures from /proc (Linux only): CPU time and peak resident set size.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for utime/stime in /proc/<pid>/stat (`getconf CLK_TCK`, usually 100). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of `pid` in ms (resolution 1000 / CLK_TCK ms); NaN once the process is gone. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3,
    // so field f sits at index f - 3 (utime is field 14, stime field 15; proc(5)).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set size (VmHWM) of `pid` in MiB; NaN once the process is gone. */
export function peakRssMiB(pid) {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Whole-machine CPU counters from /proc/stat, in ticks: everything, and idle + iowait. */
export function machineTicks() {
  const values = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: values.reduce((a, b) => a + b, 0), idle: values[3] + values[4] };
}

/**
 * Snapshot of CPU time for a list of `{ name, pid }`; `self` entries use process.cpuUsage() (µs)
 * instead of /proc, for the bench process itself.
 */
export function cpuSnapshot(processes) {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    machine: machineTicks(),
    perProcess: Object.fromEntries(
      processes.map((p) => [p.name, p.self ? (usage.user + usage.system) / 1000 : cpuMs(p.pid)]),
    ),
  };
}

/** CPU ms spent by each process between two snapshots, and how busy the whole machine was. */
export function cpuDelta(before, after) {
  const perProcess = {};
  for (const [name, ms] of Object.entries(after.perProcess)) perProcess[name] = ms - before.perProcess[name];
  const total = after.machine.total - before.machine.total;
  const idle = after.machine.idle - before.machine.idle;
  return { wallMs: after.at - before.at, perProcess, machineBusy: total > 0 ? (total - idle) / total : Number.NaN };
}

/** Pids of this process's live children (from /proc/<pid>/stat), e.g. a lab half started at Ctrl-C. */
export function childPids() {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
