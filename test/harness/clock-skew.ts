import { fileURLToPath } from 'node:url';

const PRELOAD = fileURLToPath(new URL('./clock-offset.mjs', import.meta.url));

/** Environment for a lab child whose wall clock runs `offsetSec` ahead (negative: behind). */
export function clockOffsetEnv(offsetSec: number): Record<string, string> {
  const inherited = process.env.NODE_OPTIONS ?? '';
  return {
    FROSTBUNKER_TEST_MODE: '1',
    FROSTBUNKER_TEST_CLOCK_OFFSET_SEC: String(offsetSec),
    NODE_OPTIONS: `${inherited} --import=${PRELOAD}`.trim(),
  };
}
