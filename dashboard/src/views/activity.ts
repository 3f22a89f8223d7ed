import { api } from '../api.js';
import { hourlyChart } from '../chart.js';
import { badge, h, table } from '../dom.js';
import { clock, kindName, npubOf, short } from '../format.js';
import type { AuditEntry, Hour, RequestLogRow, SignOutcome } from '../types.js';
import type { View } from './view.js';

interface ActivityData { hours: Hour[]; requests: RequestLogRow[]; outcomes: SignOutcome[]; audit: AuditEntry[] }

/** The filters outlive a refresh (the view re-renders when new rows arrive). */
const filter = { text: '', decision: '', failedOnly: false };

const DECISION_TONE: Record<string, 'ok' | 'bad' | 'warn'> = { allow: 'ok', deny: 'bad', ask: 'warn' };

function matches(...fields: (string | number | undefined)[]): boolean {
  const needle = filter.text.trim().toLowerCase();
  return needle === '' || fields.some((f) => f !== undefined && String(f).toLowerCase().includes(needle));
}

export const activityView: View<ActivityData> = {
  title: 'Activity',
  refreshMs: 5_000,
  async load() {
    const [hourly, requests, signing, audit] = await Promise.all([
      api.get<{ hours: Hour[] }>('/api/v1/signing/hourly?hours=24'),
      api.get<{ requests: RequestLogRow[] }>('/api/v1/requests?n=300'),
      api.get<{ outcomes: SignOutcome[] }>('/api/v1/signing?n=200'),
      api.get<{ entries: AuditEntry[] }>('/api/v1/audit?n=300'),
    ]);
    return { hours: hourly.hours, requests: requests.requests.reverse(), outcomes: signing.outcomes, audit: audit.entries.reverse() };
  },
  render: (data, refresh) => {
    const rerender = () => void refresh();
    const text = h('input', { id: 'activity-filter', type: 'search', value: filter.text, placeholder: 'client, method, kind, actor, node…', autocomplete: 'off' });
    text.addEventListener('change', () => { filter.text = text.value; rerender(); });
    text.addEventListener('search', () => { filter.text = text.value; rerender(); });
    const decision = h('select', { id: 'activity-decision' }, ['', 'allow', 'deny', 'ask'].map((d) => h('option', { value: d, selected: d === filter.decision }, d || 'any decision')));
    decision.addEventListener('change', () => { filter.decision = decision.value; rerender(); });
    const failed = h('input', { id: 'activity-failed', type: 'checkbox', checked: filter.failedOnly });
    failed.addEventListener('change', () => { filter.failedOnly = failed.checked; rerender(); });

    const requests = data.requests.filter((r) => (filter.decision === '' || r.decision === filter.decision) && matches(r.clientPubkey, npubOf(r.clientPubkey), r.method, r.kind, kindName(r.kind), r.rule, r.decision));
    const outcomes = data.outcomes.filter((o) => (!filter.failedOnly || !o.ok) && matches(o.identity, o.kind, kindName(o.kind), o.node, o.reason, o.code, o.eventId));
    const audit = data.audit.filter((a) => matches(a.actor, a.action, a.target, a.reason));
    const totals = data.hours.reduce((t, p) => ({ signed: t.signed + p.signed, failed: t.failed + p.failed, vetoed: t.vetoed + p.vetoed }), { signed: 0, failed: 0, vetoed: 0 });
    return [
      h('section', { class: 'card', 'aria-labelledby': 'chart-heading' },
        h('h2', { id: 'chart-heading' }, 'Signatures per hour (last 24 h)'),
        h('p', {}, `${totals.signed} signed, ${totals.failed} failed, of which ${totals.vetoed} vetoed by a share node.`),
        hourlyChart(data.hours)),
      h('form', { class: 'filters', 'aria-label': 'filter the logs', onsubmit: (e: Event) => { e.preventDefault(); filter.text = text.value; rerender(); } },
        h('label', { for: 'activity-filter' }, 'Filter'), text,
        h('label', { for: 'activity-decision' }, 'Decision'), decision,
        h('label', { class: 'check' }, failed, ' failed signings only'),
        h('button', { type: 'submit' }, 'Apply')),
      h('section', { class: 'card', 'aria-labelledby': 'signing-heading' },
        h('h2', { id: 'signing-heading' }, 'Signing rounds'),
        table('Signing rounds, newest first: latency, or who refused and why', ['time', 'kind', 'result', 'latency', 'node', 'reason'], outcomes.map((o) => [
          clock(o.atSec),
          `${o.kind} ${kindName(o.kind)}`,
          o.ok ? badge('signed', 'ok') : o.node ? badge('vetoed', 'bad') : badge(o.code ?? 'failed', 'bad'),
          `${o.durationMs} ms`,
          o.node ? h('strong', {}, o.node) : '–',
          o.reason ?? '',
        ]), { id: 'signing-log' })),
      h('section', { class: 'card', 'aria-labelledby': 'requests-heading' },
        h('h2', { id: 'requests-heading' }, 'Request log'),
        table('NIP-46 requests, newest first (metadata only)', ['time', 'client', 'method', 'decision', 'rule'], requests.map((r) => [
          clock(r.atSec),
          h('code', { title: r.clientPubkey }, short(npubOf(r.clientPubkey))),
          r.kind === undefined ? r.method : `${r.method} ${r.kind} (${kindName(r.kind)})`,
          badge(r.decision, DECISION_TONE[r.decision] ?? 'muted'),
          r.rule,
        ]), { id: 'request-log' })),
      h('section', { class: 'card', 'aria-labelledby': 'audit-heading' },
        h('h2', { id: 'audit-heading' }, 'Audit log'),
        table('Changes, newest first (hash-chained)', ['#', 'time', 'actor', 'action', 'target', 'reason'], audit.map((a) => [
          String(a.seq), clock(a.atSec), h('strong', {}, a.actor), a.action, h('code', { class: 'wrap' }, short(a.target, 24)), a.reason,
        ]), { id: 'audit-log' })),
    ];
  },
};
