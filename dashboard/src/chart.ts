import { h, s } from './dom.js';

export interface HourPoint {
  hourStartSec: number;
  signed: number;
  failed: number;
  vetoed: number;
  latencyMsP50: number | null;
}

const W = 640;
const H = 220;
const PAD = { left: 40, right: 44, top: 16, bottom: 28 };

/**
 * Signatures per hour (bars: signed, failed stacked) and median latency (line, right axis), as an
 * SVG built here: no chart library, nothing inline the CSP would have to allow.
 */
export function hourlyChart(hours: readonly HourPoint[]): HTMLElement {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const maxCount = Math.max(1, ...hours.map((p) => p.signed + p.failed));
  const maxLatency = Math.max(1, ...hours.map((p) => p.latencyMsP50 ?? 0));
  const slot = plotW / Math.max(1, hours.length);
  const y = (count: number) => PAD.top + plotH - (count / maxCount) * plotH;
  const yl = (ms: number) => PAD.top + plotH - (ms / maxLatency) * plotH;
  const bars = hours.flatMap((p, i) => {
    const x = PAD.left + i * slot + slot * 0.15;
    const width = slot * 0.7;
    const label = `${new Date(p.hourStartSec * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}: ${p.signed} signed, ${p.failed} failed${p.vetoed ? ` (${p.vetoed} vetoed)` : ''}${p.latencyMsP50 === null ? '' : `, median ${p.latencyMsP50} ms`}`;
    return [
      p.signed === 0 ? null : s('rect', { class: 'bar-ok', x: x.toFixed(1), y: y(p.signed).toFixed(1), width: width.toFixed(1), height: (PAD.top + plotH - y(p.signed)).toFixed(1) }, s('title', {}, label)),
      p.failed > 0
        ? s('rect', { class: 'bar-fail', x: x.toFixed(1), y: y(p.signed + p.failed).toFixed(1), width: width.toFixed(1), height: (y(p.signed) - y(p.signed + p.failed)).toFixed(1) }, s('title', {}, label))
        : null,
    ];
  });
  const points = hours
    .map((p, i) => (p.latencyMsP50 === null ? null : `${(PAD.left + i * slot + slot / 2).toFixed(1)},${yl(p.latencyMsP50).toFixed(1)}`))
    .filter((p): p is string => p !== null);
  const ticks = hours.filter((_, i) => i % Math.ceil(hours.length / 6) === 0 || i === hours.length - 1).map((p) => {
    const i = hours.indexOf(p);
    return s('text', { class: 'tick', x: (PAD.left + i * slot + slot / 2).toFixed(1), y: H - 8, 'text-anchor': 'middle' },
      new Date(p.hourStartSec * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }));
  });
  const total = hours.reduce((sum, p) => sum + p.signed, 0);
  const failed = hours.reduce((sum, p) => sum + p.failed, 0);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'chart-title', class: 'chart' },
    s('title', { id: 'chart-title' }, `Signatures per hour over the last ${hours.length} hours: ${total} signed, ${failed} failed; line: median latency`),
    s('line', { class: 'axis', x1: PAD.left, y1: PAD.top + plotH, x2: W - PAD.right, y2: PAD.top + plotH }),
    s('text', { class: 'tick', x: PAD.left - 6, y: PAD.top + 4, 'text-anchor': 'end' }, String(maxCount)),
    s('text', { class: 'tick', x: PAD.left - 6, y: PAD.top + plotH, 'text-anchor': 'end' }, '0'),
    s('text', { class: 'tick latency', x: W - PAD.right + 6, y: PAD.top + 4 }, `${maxLatency} ms`),
    bars,
    points.length > 1 ? s('polyline', { class: 'latency-line', points: points.join(' ') }) : null,
    points.map((p) => {
      const [cx, cy] = p.split(',');
      return s('circle', { class: 'latency-dot', cx: cx!, cy: cy!, r: 3 });
    }),
    ticks,
  );
  return h('figure', { class: 'chart-figure' }, svg,
    h('figcaption', {}, h('span', { class: 'key key-ok' }), ' signed ', h('span', { class: 'key key-fail' }), ' failed or vetoed ', h('span', { class: 'key key-latency' }), ' median latency (right axis)'));
}
