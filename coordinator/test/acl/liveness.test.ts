import { describe, expect, it } from 'vitest';
import { isInForce, isLive, type LifecycleBounds } from '../../src/acl/liveness.js';
import { NOW } from './fixtures.js';

const T = NOW + 60;

describe('isLive', () => {
  const cases: { name: string; row: LifecycleBounds; nowSec: number; live: boolean }[] = [
    { name: 'a row with no bounds is live', row: {}, nowSec: NOW, live: true },
    { name: 'one second before expiresAtSec the row is live', row: { expiresAtSec: T }, nowSec: T - 1, live: true },
    { name: 'at expiresAtSec the row is already expired', row: { expiresAtSec: T }, nowSec: T, live: false },
    { name: 'one second after expiresAtSec the row is expired', row: { expiresAtSec: T }, nowSec: T + 1, live: false },
    { name: 'one second before notBeforeSec the row is not yet live', row: { notBeforeSec: T }, nowSec: T - 1, live: false },
    { name: 'at notBeforeSec the row is live', row: { notBeforeSec: T }, nowSec: T, live: true },
    { name: 'one second after notBeforeSec the row is live', row: { notBeforeSec: T }, nowSec: T + 1, live: true },
    { name: 'a one-second window is live only at its start', row: { notBeforeSec: T, expiresAtSec: T + 1 }, nowSec: T, live: true },
    { name: 'a one-second window is dead at its end', row: { notBeforeSec: T, expiresAtSec: T + 1 }, nowSec: T + 1, live: false },
    { name: 'an empty window (notBefore = expiresAt) is never live', row: { notBeforeSec: T, expiresAtSec: T }, nowSec: T, live: false },
    { name: 'a revoked row is dead inside its window', row: { expiresAtSec: T, revokedAtSec: NOW - 1 }, nowSec: NOW, live: false },
    { name: 'a revocation stamped in the future still kills the row', row: { revokedAtSec: T }, nowSec: NOW, live: false },
    { name: 'a revocation stamped at 0 still kills the row', row: { revokedAtSec: 0 }, nowSec: NOW, live: false },
    { name: 'NULL bounds (SQLite) count as absent', row: { notBeforeSec: null, expiresAtSec: null, revokedAtSec: null }, nowSec: NOW, live: true },
    { name: 'a NaN deadline makes the row dead (fail closed)', row: { expiresAtSec: Number.NaN }, nowSec: NOW, live: false },
    { name: 'a NaN notBefore makes the row dead (fail closed)', row: { notBeforeSec: Number.NaN }, nowSec: NOW, live: false },
    { name: 'a NaN clock makes every row dead (fail closed)', row: {}, nowSec: Number.NaN, live: false },
    { name: 'an infinite deadline never expires', row: { expiresAtSec: Infinity }, nowSec: NOW, live: true },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(isLive(c.row, c.nowSec)).toBe(c.live);
  });
});

describe('isInForce', () => {
  const cases: { name: string; untilSec: number | null | undefined; nowSec: number; inForce: boolean }[] = [
    { name: 'a restriction with no untilSec is in force until removed', untilSec: undefined, nowSec: NOW, inForce: true },
    { name: 'a NULL untilSec (SQLite) is in force until removed', untilSec: null, nowSec: NOW, inForce: true },
    { name: 'one second before untilSec the restriction holds', untilSec: T, nowSec: T - 1, inForce: true },
    { name: 'at untilSec the restriction has lapsed', untilSec: T, nowSec: T, inForce: false },
    { name: 'one second after untilSec the restriction has lapsed', untilSec: T, nowSec: T + 1, inForce: false },
    { name: 'a NaN untilSec keeps the restriction in force (fail closed)', untilSec: Number.NaN, nowSec: NOW, inForce: true },
    { name: 'a NaN clock keeps the restriction in force (fail closed)', untilSec: T, nowSec: Number.NaN, inForce: true },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(isInForce({ untilSec: c.untilSec }, c.nowSec)).toBe(c.inForce);
  });

  it('uses the same exclusive end as isLive, so a grant and a denial with one deadline hand over at the same second', () => {
    for (const nowSec of [T - 1, T, T + 1]) {
      expect(isInForce({ untilSec: T }, nowSec)).toBe(isLive({ expiresAtSec: T }, nowSec));
    }
  });
});
