import './style.css';
import { api, ApiError, setSession } from './api.js';
import { h, replaceChildren } from './dom.js';
import { activityView } from './views/activity.js';
import { approvalDetailView, approvalListView } from './views/approvals.js';
import { clientsView } from './views/clients.js';
import { drillsView } from './views/drills.js';
import { quorumView } from './views/quorum.js';
import type { View } from './views/view.js';

interface Session { label: string; csrfToken: string; expiresAtSec: number }

const NAV: readonly [string, string][] = [
  ['#/quorum', 'Quorum'],
  ['#/clients', 'Clients'],
  ['#/approvals', 'Approvals'],
  ['#/activity', 'Activity'],
  ['#/drills', 'Drills'],
];

const app = document.getElementById('app')!;
let timer: number | undefined;
let generation = 0;

function route(): View<any> {
  const hash = location.hash || '#/quorum';
  const approval = /^#\/approvals\/(apr_[0-9a-f]{16})$/.exec(hash);
  if (approval) return approvalDetailView(approval[1]!);
  if (hash.startsWith('#/clients')) return clientsView;
  if (hash.startsWith('#/approvals')) return approvalListView;
  if (hash.startsWith('#/activity')) return activityView;
  if (hash.startsWith('#/drills')) return drillsView;
  return quorumView;
}

function showLogin(message?: string): void {
  stopTimer();
  const token = h('input', { id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'fba_…' });
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' }, message ?? '');
  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'frostbunker dashboard'),
    h('label', { for: 'token' }, 'Admin token'),
    token,
    h('button', { type: 'submit' }, 'Log in'),
    error,
    h('p', { class: 'muted' }, 'Create a token on the coordinator\'s host: ', h('code', {}, 'pnpm frostbunker admin-token create --label <your-name> --data <coordinator-dir>'),
      '. The token opens a session (a cookie for this address only); your changes are audited under its label.'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    api.post<Session>('/auth/login', { token: token.value }).then(
      (session) => start(session),
      (failure: unknown) => {
        error.textContent = failure instanceof ApiError ? failure.message : 'cannot reach the coordinator';
        token.select();
      },
    );
  });
  replaceChildren(app, h('main', { id: 'main', class: 'narrow' }, form));
  token.focus();
}

function start(session: Session): void {
  setSession(session.csrfToken, () => showLogin('Your session has ended; log in again.'));
  const nav = h('nav', { 'aria-label': 'dashboard pages' }, h('ul', {}, NAV.map(([href, text]) => h('li', {}, h('a', { href }, text)))));
  const logout = h('button', { type: 'button', class: 'link' }, 'Log out');
  logout.addEventListener('click', () => {
    void api.post('/auth/logout').finally(() => showLogin('Logged out.'));
  });
  const main = h('main', { id: 'main', tabindex: -1 });
  replaceChildren(app,
    h('header', {}, h('span', { class: 'brand' }, 'frostbunker'), nav, h('span', { class: 'who' }, `operator ${session.label} `, logout)),
    main);
  window.onhashchange = () => void show(main, nav, true);
  void show(main, nav, true);
}

async function show(main: HTMLElement, nav: HTMLElement, fresh: boolean): Promise<void> {
  const mine = ++generation;
  stopTimer();
  const view = route();
  const here = location.hash || '#/quorum';
  for (const link of nav.querySelectorAll('a')) {
    if (here.startsWith(link.getAttribute('href')!)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${view.title} · frostbunker`;
  let shown = '';
  const title = h('h1', {}, view.title);
  const body = h('div', { class: 'view' });
  // `force`: after an action or a filter change the page must redraw even if the data did not change.
  const refresh = async (force = false) => {
    try {
      const data = await view.load();
      if (mine !== generation) return;
      const serial = JSON.stringify(data);
      if (force || serial !== shown) {
        shown = serial;
        replaceChildren(body, ...view.render(data, () => refresh(true)));
      }
    } catch (error) {
      if (mine !== generation) return;
      if (error instanceof ApiError && error.status === 401) return;
      shown = '';
      replaceChildren(body, h('p', { class: 'banner bad', role: 'alert' }, error instanceof Error ? error.message : String(error)));
    }
  };
  if (fresh) {
    replaceChildren(main, title, body);
    body.textContent = 'Loading…';
  }
  await refresh();
  if (fresh) main.focus({ preventScroll: true });
  const tick = async () => {
    if (mine !== generation) return;
    // Never pull the page from under someone filling in a form.
    const typing = document.activeElement instanceof HTMLInputElement || document.activeElement instanceof HTMLSelectElement;
    if (!typing || !main.contains(document.activeElement)) await refresh();
    if (mine === generation && view.refreshMs) timer = window.setTimeout(() => void tick(), view.refreshMs);
  };
  if (view.refreshMs) timer = window.setTimeout(() => void tick(), view.refreshMs);
}

function stopTimer(): void {
  if (timer !== undefined) window.clearTimeout(timer);
  timer = undefined;
}

api.get<Session>('/auth/session').then(start, () => showLogin());
