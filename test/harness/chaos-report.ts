import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where chaos goals append their results; `test/chaos/report-setup.ts` truncates and prints it. */
export const CHAOS_REPORT_FILE = join(tmpdir(), 'frostbunker-chaos-report.jsonl');

export interface GoalResult {
  goal: string;
  title: string;
  size: string;
  passed: boolean;
  figures: string[];
  error?: string;
}

/**
 * Runs one goal's body, recording pass/fail and the figures it printed in the chaos report (and
 * on stdout as `[figure]` lines). A failure is recorded, then rethrown so the test fails.
 */
export async function goal(id: string, title: string, size: string, body: (figure: (line: string) => void) => Promise<void>): Promise<void> {
  const figures: string[] = [];
  const figure = (line: string) => {
    figures.push(line);
    console.log(`[figure] ${id}: ${line}`);
  };
  const write = (result: GoalResult) => appendFileSync(CHAOS_REPORT_FILE, `${JSON.stringify(result)}\n`);
  try {
    await body(figure);
    write({ goal: id, title, size, passed: true, figures });
  } catch (error) {
    write({ goal: id, title, size, passed: false, figures, error: error instanceof Error ? error.message.split('\n')[0]! : String(error) });
    throw error;
  }
}
