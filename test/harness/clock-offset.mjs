// Injected clock for a child process (RELIABILITY.md §3.4), with no change to the product: loaded
// with `node --import`, it shifts wall time (`Date.now`, `new Date()`) by
// FROSTBUNKER_TEST_CLOCK_OFFSET_SEC seconds, as a skewed host clock would. Monotonic time
// (`performance.now`) is untouched, as on a real host. Armed only with FROSTBUNKER_TEST_MODE=1.
const offsetSec = Number(process.env.FROSTBUNKER_TEST_CLOCK_OFFSET_SEC ?? '0');
if (process.env.FROSTBUNKER_TEST_MODE === '1' && Number.isFinite(offsetSec) && offsetSec !== 0) {
  const offsetMs = offsetSec * 1000;
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(realNow() + offsetMs);
      else super(...args);
    }
    static now() {
      return realNow() + offsetMs;
    }
  }
  globalThis.Date = SkewedDate;
  process.stderr.write(`${JSON.stringify({ level: 'warn', msg: `TEST MODE: wall clock offset ${offsetSec} s` })}\n`);
}
