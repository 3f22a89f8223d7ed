import { api } from '../api.js';
import { badge, h } from '../dom.js';
import type { DrillReport } from '../types.js';
import type { View } from './view.js';

const TONE: Record<string, 'ok' | 'bad' | 'warn' | 'muted'> = { committed: 'ok', 'dry-run': 'muted', aborted: 'bad', refused: 'warn' };

export const drillsView: View<DrillReport[]> = {
  title: 'Drills',
  refreshMs: 30_000,
  load: async () => (await api.get<{ reports: DrillReport[] }>('/api/v1/drills?n=50')).reports,
  render: (reports) => [
    h('p', {}, reports.length === 0
      ? 'No rotation drill has run yet. Run one with: pnpm frostbunker drill refresh [--dry-run] --data <coordinator-dir>'
      : `${reports.length} drill report${reports.length === 1 ? '' : 's'}, newest first.`),
    ...reports.map((report, index) =>
      h('details', { class: 'card drill', open: index === 0, 'data-drill': report.name },
        h('summary', {},
          h('strong', {}, `${report.kind}${report.dryRun ? ' (dry run)' : ''} of ${report.identity}`), ' ',
          badge(report.outcome, TONE[report.outcome] ?? 'muted'), ' ',
          `${new Date(report.startedAt).toLocaleString()} · epoch ${report.epochBefore} → ${report.epochAfter} · ${(report.totalMs / 1000).toFixed(1)} s`),
        report.failure ? h('p', { class: 'banner bad' }, `Failure: ${report.failure.reason}${report.failure.culprits.length ? ` (culprits: ${report.failure.culprits.join(', ')})` : ''}`) : null,
        report.notAcknowledged.length ? h('p', { class: 'banner warn' }, `Not acknowledged by: ${report.notAcknowledged.join(', ')}`) : null,
        h('p', {}, report.sameNpub ? 'The npub is unchanged.' : 'The npub CHANGED.'),
        report.text ? h('pre', { class: 'report' }, report.text) : h('p', { class: 'muted' }, 'No text summary beside this report.'),
      )),
  ],
};
