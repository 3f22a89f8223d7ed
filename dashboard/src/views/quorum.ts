import { api } from '../api.js';
import { badge, h, table } from '../dom.js';
import { npubOf } from '../format.js';
import type { Health } from '../types.js';
import type { View } from './view.js';

export const quorumView: View<Health> = {
  title: 'Quorum',
  refreshMs: 2_000,
  load: () => api.get<Health>('/health'),
  render: (health) => [
    health.starting ? h('p', { class: 'banner warn', role: 'status' }, 'The coordinator is starting.') : null,
    ...health.identities.map((identity) => {
      const serving = identity.nodes.filter((n) => n.online && !n.frozen).length;
      return h('section', { class: 'card', 'aria-labelledby': `identity-${identity.name}` },
        h('h2', { id: `identity-${identity.name}` }, `Identity ${identity.name}`),
        identity.quorumAvailable
          ? h('p', { class: 'banner ok', role: 'status', id: 'quorum-status' }, `Quorum available: ${serving} of ${identity.nodes.length} share nodes serving, ${identity.threshold} needed.`)
          : h('p', { class: 'banner bad', role: 'alert', id: 'quorum-status' },
            `Quorum lost: only ${serving} of the ${identity.threshold} share nodes needed are reachable. Signing requests are refused until ${identity.threshold - serving} more answer${identity.threshold - serving === 1 ? 's' : ''}.`),
        h('dl', { class: 'facts' },
          h('dt', {}, 'npub'), h('dd', {}, h('code', { class: 'wrap' }, npubOf(identity.userPubkey))),
          h('dt', {}, 'threshold'), h('dd', {}, `${identity.threshold}-of-${identity.nodes.length}`),
          h('dt', {}, 'epoch'), h('dd', {}, String(identity.epoch)),
        ),
        table('Share nodes', ['node', 'state', 'latency', 'last seen', 'epoch'], identity.nodes.map((node) => [
          h('strong', {}, node.label),
          h('span', { 'data-node': node.label, 'data-state': node.frozen ? 'frozen' : node.online ? 'online' : 'offline' },
            node.frozen ? badge('frozen', 'warn') : node.online ? badge('online', 'ok') : badge('offline', 'bad')),
          node.latencyMs === null || !node.online ? '–' : `${node.latencyMs} ms`,
          node.lastSeenMsAgo === null ? 'never' : `${(node.lastSeenMsAgo / 1000).toFixed(1)} s ago`,
          node.epoch === identity.epoch ? String(node.epoch) : h('span', { class: 'bad-text' }, `${node.epoch} (coordinator: ${identity.epoch})`),
        ]), { id: `nodes-${identity.name}` }),
      );
    }),
    h('section', { class: 'card', 'aria-labelledby': 'relays-title' },
      h('h2', { id: 'relays-title' }, 'Relays and database'),
      table('Relays', ['relay', 'state', 'reconnects', 'subscriptions', 'last error'], health.relays.map((relay) => [
        h('code', { class: 'wrap' }, relay.url),
        relay.connected ? badge('connected', 'ok') : badge('down', 'bad'),
        String(relay.reconnects),
        String(relay.liveSubscriptions),
        relay.lastError ?? '–',
      ])),
      h('p', {}, 'Database: ', health.database.ok ? badge('ok', 'ok') : badge(`failing: ${health.database.error ?? ''}`, 'bad')),
      health.problems.length ? h('ul', { class: 'problems' }, health.problems.map((p) => h('li', {}, p))) : h('p', {}, 'No problems.'),
    ),
  ],
};
