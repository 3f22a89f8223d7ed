import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHAOS_REPORT_FILE, type GoalResult } from '../harness/chaos-report.js';

/** Vitest globalSetup of the chaos project: a fresh report file, printed when the run ends. */
export default function setup(): () => void {
  rmSync(CHAOS_REPORT_FILE, { force: true });
  const startedAt = new Date();
  return () => {
    const results = existsSync(CHAOS_REPORT_FILE)
      ? readFileSync(CHAOS_REPORT_FILE, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as GoalResult)
      : [];
    const lines = [
      `frostbunker chaos report — ${startedAt.toISOString()} — node ${process.version}, load ${readLoad()}`,
      `${results.filter((r) => r.passed).length}/${results.length} goals passed`,
      '',
      ...results.flatMap((r) => [
        `${r.passed ? 'PASS' : 'FAIL'}  ${r.goal}  ${r.title}  [${r.size}]`,
        ...r.figures.map((f) => `        ${f}`),
        ...(r.error ? [`        error: ${r.error}`] : []),
      ]),
    ];
    const text = `${lines.join('\n')}\n`;
    const out = join(tmpdir(), 'frostbunker-chaos-report.txt');
    writeFileSync(out, text);
    process.stdout.write(`\n${text}(also in ${out})\n`);
  };
}

function readLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}
