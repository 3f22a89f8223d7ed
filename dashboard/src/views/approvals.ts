import { api, ApiError } from '../api.js';
import { badge, h, table } from '../dom.js';
import { ago, clock, kindName, npubOf, short, timeLeft } from '../format.js';
import type { Approval } from '../types.js';
import type { View } from './view.js';

const STATE_TONE = { pending: 'warn', approved: 'ok', denied: 'bad', expired: 'muted' } as const;

export const approvalListView: View<Approval[]> = {
  title: 'Pending approvals',
  refreshMs: 2_000,
  load: async () => (await api.get<{ approvals: Approval[] }>('/api/v1/approvals')).approvals,
  render: (approvals) => [
    h('p', {}, approvals.length === 0
      ? 'No request is waiting. Requests the live ACL asks about (auth_url) appear here.'
      : `${approvals.length} request${approvals.length === 1 ? ' is' : 's are'} waiting.`),
    table('Waiting requests', ['request', 'client', 'asks for', 'waiting on', 'time left'], approvals.map((a) => [
      h('a', { href: `#/approvals/${a.approvalId}` }, a.approvalId),
      h('code', {}, short(npubOf(a.clientPubkey))),
      a.kind === undefined ? a.method : `${a.method} kind ${a.kind} (${kindName(a.kind)})`,
      a.waitingOn === 'operator' ? 'you' : `operator of ${a.waitingOn.slice('node:'.length)}`,
      timeLeft(a.expiresAtSec),
    ]), { id: 'approval-list' }),
  ],
};

interface ShownEvent { kind?: unknown; content?: unknown; tags?: unknown; created_at?: unknown }

function decodedRequest(approval: Approval): Node[] {
  const request = approval.request;
  if (!request) return [h('p', { class: 'muted' }, 'The request was answered: its content is no longer kept.')];
  if (request.method === 'sign_event') {
    let event: ShownEvent | undefined;
    try {
      event = JSON.parse(request.params[0] ?? '') as ShownEvent;
    } catch {
      event = undefined;
    }
    if (!event || typeof event !== 'object') return [h('p', {}, 'An event the bunker could not read:'), h('pre', {}, request.params[0] ?? '')];
    const kind = typeof event.kind === 'number' ? event.kind : undefined;
    const tags = Array.isArray(event.tags) ? (event.tags as unknown[]).filter(Array.isArray).map((t) => (t as unknown[]).map(String)) : [];
    return [
      h('dl', { class: 'facts', id: 'decoded-event' },
        h('dt', {}, 'kind'), h('dd', {}, h('strong', {}, `${kind ?? '?'} — ${kindName(kind)}`)),
        h('dt', {}, 'created'), h('dd', {}, typeof event.created_at === 'number' ? clock(event.created_at) : '?'),
        h('dt', {}, 'content'), h('dd', {}, h('pre', { class: 'content' }, typeof event.content === 'string' ? event.content : JSON.stringify(event.content))),
      ),
      table('Tags', ['name', 'values'], tags.map((tag) => [h('code', {}, tag[0] ?? ''), h('code', { class: 'wrap' }, tag.slice(1).join(', '))])),
    ];
  }
  return [h('p', {}, `${request.method} with:`), h('pre', { class: 'content' }, request.params.join('\n'))];
}

export function approvalDetailView(approvalId: string): View<Approval> {
  return {
    title: `Request ${approvalId}`,
    refreshMs: 2_000,
    load: async () => (await api.get<{ approval: Approval }>(`/api/v1/approvals/${approvalId}`)).approval,
    render: (approval, refresh) => {
      const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
      const reason = h('input', { id: 'decision-reason', type: 'text', maxlength: 200, autocomplete: 'off', placeholder: 'optional; a denial reason is sent to the client' });
      const decide = (decision: 'approve' | 'deny') => async () => {
        status.textContent = decision === 'approve' ? 'Approving…' : 'Denying…';
        try {
          const why = reason.value.trim();
          await api.post(`/api/v1/approvals/${approval.approvalId}/${decision}`, why ? { reason: why } : { reason: 'dashboard' });
          await refresh();
        } catch (error) {
          status.textContent = `Failed: ${error instanceof ApiError ? error.message : String(error)}`;
        }
      };
      const canDecide = approval.state === 'pending' && approval.waitingOn === 'operator';
      return [
        h('p', {}, h('a', { href: '#/approvals' }, '← all waiting requests')),
        h('section', { class: 'card', 'aria-labelledby': 'approval-title' },
          h('h2', { id: 'approval-title' }, `${approval.method}${approval.kind === undefined ? '' : ` kind ${approval.kind}`} `, h('span', { id: 'approval-state' }, badge(approval.state, STATE_TONE[approval.state]))),
          h('dl', { class: 'facts' },
            h('dt', {}, 'client'), h('dd', {}, h('code', { class: 'wrap' }, npubOf(approval.clientPubkey))),
            h('dt', {}, 'identity'), h('dd', {}, approval.identity),
            h('dt', {}, 'why asked'), h('dd', {}, approval.rule),
            h('dt', {}, 'asked'), h('dd', {}, ago(approval.createdAtSec)),
            approval.state === 'pending' ? [h('dt', {}, 'expires'), h('dd', {}, timeLeft(approval.expiresAtSec))] : null,
            approval.decidedBy ? [h('dt', {}, 'decided by'), h('dd', {}, `${approval.decidedBy}${approval.decisionReason ? ` (${approval.decisionReason})` : ''}`)] : null,
            approval.eventId ? [h('dt', {}, 'event id'), h('dd', {}, h('code', { class: 'wrap' }, approval.eventId))] : null,
          ),
          h('h3', {}, 'What it asks for'),
          ...decodedRequest(approval),
          canDecide
            ? h('div', { class: 'decide' },
              h('label', { for: 'decision-reason' }, 'Reason'), reason,
              h('button', { type: 'button', class: 'approve', onclick: () => void decide('approve')() }, 'Approve'),
              h('button', { type: 'button', class: 'danger', onclick: () => void decide('deny')() }, 'Deny'))
            : approval.state === 'pending'
              ? h('p', { class: 'banner warn' }, `Only the operator of share node ${approval.waitingOn.slice('node:'.length)} decides this, on that host (pnpm share-node approve|deny).`)
              : null,
          status,
        ),
      ];
    },
  };
}
