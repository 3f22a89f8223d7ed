import { api, ApiError } from '../api.js';
import { badge, h, table } from '../dom.js';
import { npubOf, short, timeLeft } from '../format.js';
import type { Client, Denial, Grant, Identity } from '../types.js';
import type { View } from './view.js';

interface ClientsData { identity: string; identities: Identity[]; clients: Client[] }

let chosenIdentity: string | undefined;

const DURATIONS: readonly [string, number | undefined][] = [
  ['10 minutes', 600], ['1 hour', 3600], ['1 day', 86_400], ['7 days', 7 * 86_400], ['30 days', 30 * 86_400], ['no end', undefined],
];

function durationSelect(name: string, label: string, withoutEnd: boolean, fallback = '3600'): HTMLElement {
  return h('label', {}, label, ' ',
    h('select', { name }, DURATIONS.filter(([, sec]) => withoutEnd || sec !== undefined).map(([text, sec]) =>
      h('option', { value: sec === undefined ? '' : String(sec), selected: String(sec ?? '') === fallback }, text))));
}

function scope(item: { method: string; kind?: number | '*' }): string {
  return item.method === 'sign_event' && item.kind !== undefined ? `sign_event:${item.kind}` : item.method;
}

function grantRow(grant: Grant) {
  return [
    h('code', {}, scope(grant)),
    grant.source,
    grant.revokedAtSec !== undefined ? 'revoked' : timeLeft(grant.expiresAtSec),
    grant.usageCap ? `${grant.usedInWindow ?? 0} / ${grant.usageCap.max} per ${grant.usageCap.windowSec} s` : 'no cap',
    grant.live ? badge('live', 'ok') : badge('not live', 'muted'),
  ];
}

function denialRow(denial: Denial) {
  return [h('code', {}, scope(denial)), denial.untilSec === undefined ? 'until removed' : timeLeft(denial.untilSec), denial.reason, denial.actor, denial.live ? badge('in force', 'bad') : badge('lapsed', 'muted')];
}

function clientCard(identity: string, client: Client, refresh: () => Promise<void>): HTMLElement {
  const npub = npubOf(client.clientPubkey);
  const base = `/api/v1/identities/${identity}/clients/${client.clientPubkey}`;
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const reason = h('input', { name: 'reason', type: 'text', maxlength: 200, placeholder: 'why (for the audit log)', autocomplete: 'off' });
  const act = (what: string, path: string, body: Record<string, unknown>) => async (event: Event) => {
    event.preventDefault();
    const why = reason.value.trim();
    status.textContent = `${what}…`;
    try {
      await api.post(`${base}/${path}`, { ...body, reason: why ? `dashboard: ${why}` : 'dashboard' });
      status.textContent = `${what}: done`;
      await refresh();
    } catch (error) {
      status.textContent = `${what} failed: ${error instanceof ApiError ? error.message : String(error)}`;
    }
  };
  const numberOf = (form: HTMLFormElement, name: string) => {
    const value = (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value;
    return value === '' ? undefined : Number(value);
  };
  const valueOf = (form: HTMLFormElement, name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();

  const state = client.revokedAtSec !== undefined
    ? badge('revoked', 'bad')
    : client.suspension && client.suspension.untilSec > Date.now() / 1000
      ? badge(`suspended, ${timeLeft(client.suspension.untilSec)}`, 'warn')
      : badge('active', 'ok');
  const label = `client ${short(npub)}`;
  const trustForm = h('form', { class: 'inline', 'aria-label': `trust level of ${label}` },
    h('label', {}, 'Trust ', h('select', { name: 'trustLevel' }, ['paranoid', 'reasonable', 'full'].map((t) => h('option', { value: t, selected: t === (client.trustLevel ?? 'paranoid') }, t)))),
    h('button', { type: 'submit' }, 'Set trust'));
  trustForm.addEventListener('submit', (e) => void act('Set trust', 'trust', { trustLevel: valueOf(trustForm, 'trustLevel') })(e));
  const grantForm = h('form', { class: 'inline', 'aria-label': `grant to ${label}` },
    h('label', {}, 'Perms ', h('input', { name: 'perms', required: true, placeholder: 'sign_event:1,nip44_encrypt', autocomplete: 'off', size: 24 })),
    durationSelect('ttlSec', 'for', true, ''),
    h('label', {}, 'cap ', h('input', { name: 'capMax', type: 'number', min: 1, placeholder: 'max', class: 'num' })),
    h('label', {}, 'per ', h('select', { name: 'capWindowSec' }, h('option', { value: '3600' }, 'hour'), h('option', { value: '86400' }, 'day'))),
    h('button', { type: 'submit' }, 'Grant'));
  grantForm.addEventListener('submit', (e) => {
    const ttlSec = numberOf(grantForm, 'ttlSec');
    const max = numberOf(grantForm, 'capMax');
    void act('Grant', 'grants', {
      perms: valueOf(grantForm, 'perms'),
      ...(ttlSec === undefined ? {} : { ttlSec }),
      ...(max === undefined ? {} : { cap: { max, windowSec: numberOf(grantForm, 'capWindowSec') } }),
    })(e);
  });
  const denyForm = h('form', { class: 'inline', 'aria-label': `deny for ${label}` },
    h('label', {}, 'Deny ', h('input', { name: 'perm', required: true, placeholder: '* or sign_event:7', autocomplete: 'off', size: 14 })),
    durationSelect('forSec', 'for', true),
    h('button', { type: 'submit' }, 'Deny'));
  denyForm.addEventListener('submit', (e) => {
    const forSec = numberOf(denyForm, 'forSec');
    void act('Deny', 'denials', { perm: valueOf(denyForm, 'perm'), ...(forSec === undefined ? {} : { forSec }) })(e);
  });
  const suspendForm = h('form', { class: 'inline', 'aria-label': `suspend ${label}` },
    durationSelect('forSec', 'Suspend for', false),
    h('button', { type: 'submit' }, 'Suspend'));
  suspendForm.addEventListener('submit', (e) => void act('Suspend', 'suspend', { forSec: numberOf(suspendForm, 'forSec') })(e));
  const revokeForm = h('form', { class: 'inline', 'aria-label': `revoke ${label}` },
    h('button', { type: 'submit', class: 'danger', disabled: client.revokedAtSec !== undefined }, 'Revoke'));
  revokeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (window.confirm(`Revoke ${npub}? Every request from it is refused from now on, for good.`)) void act('Revoke', 'revoke', {})(e);
  });

  return h('article', { class: 'card client', 'data-client': client.clientPubkey, 'aria-label': label },
    h('h3', {}, h('code', { class: 'wrap' }, npub), ' ', state),
    h('p', { class: 'muted' }, 'hex ', h('code', { class: 'wrap' }, client.clientPubkey), ` · trust level ${client.trustLevel ?? 'unknown (asks)'}`,
      client.suspension ? ` · suspended by ${client.suspension.actor}: ${client.suspension.reason}` : ''),
    table('Grants', ['perm', 'source', 'time left', 'usage', 'state'], client.grants.map(grantRow)),
    table('Denials', ['perm', 'time left', 'reason', 'by', 'state'], client.denials.map(denialRow)),
    h('div', { class: 'actions' },
      h('label', { class: 'reason' }, 'Reason ', reason),
      trustForm, grantForm, denyForm, suspendForm, revokeForm),
    status,
  );
}

export const clientsView: View<ClientsData> = {
  title: 'Clients',
  refreshMs: 5_000,
  async load() {
    const { identities } = await api.get<{ identities: Identity[] }>('/api/v1/identities');
    const identity = identities.find((i) => i.name === chosenIdentity)?.name ?? identities[0]?.name ?? 'default';
    const { clients } = await api.get<{ clients: Client[] }>(`/api/v1/identities/${identity}/clients`);
    return { identity, identities, clients };
  },
  render: (data, refresh) => {
    const picker = data.identities.length > 1
      ? h('label', {}, 'Identity ', h('select', {
        onchange: (event: Event) => {
          chosenIdentity = (event.target as HTMLSelectElement).value;
          void refresh();
        },
      }, data.identities.map((i) => h('option', { value: i.name, selected: i.name === data.identity }, i.name))))
      : null;
    return [
      h('p', {}, picker, `${data.clients.length} client${data.clients.length === 1 ? '' : 's'} of identity ${data.identity}. Changes take effect on the next request and are audited as you.`),
      ...data.clients.map((client) => clientCard(data.identity, client, refresh)),
    ];
  },
};
