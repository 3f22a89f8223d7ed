import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { verifyEvent } from 'nostr-tools/pure';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { makeTempDir } from '../harness/tmp.js';

/** Debian's Chromium (apt-get install chromium); a test tool's own browser download never works here. */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
// Without the background-networking flags Chromium calls Google's hosts at every start.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Health { identities: { nodes: { label: string; online: boolean }[] }[] }

// Issue 10: the dashboard in headless Chromium against a real lab (relay, coordinator, three share nodes).
describe('dashboard in a browser against a running 2-of-3 lab', () => {
  const dir = makeTempDir('e2e-dashboard');
  let lab: Lab;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let adminToken: string;
  let client: Awaited<ReturnType<typeof connectBunkerSigner>>;
  const authUrls: string[] = [];
  const requested: string[] = [];
  const screenshot = async (name: string, on: Page = page) => {
    const path = `${SCREENSHOTS}${name}.png`;
    await on.screenshot({ path, fullPage: true });
    console.log(`[screenshot] ${path}`);
  };
  const template = (kind: number, content: string, tags: string[][] = []) => ({ kind, content, tags, created_at: Math.floor(Date.now() / 1000) });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: install Debian's package (apt-get install -y chromium; .ci/run does this). The dashboard tests never download a browser.`);
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    await lab.waitForQuorum();
    adminToken = (await frostbunkerCli('admin-token', 'create', '--label', 'dash-e2e', '--data', lab.layout.coordinatorDir)).trim();
    // A real drill report for the drills page: a dry run changes nothing and needs all three nodes.
    await waitUntil(async () => (await health()).identities[0]!.nodes.every((n) => n.online), 20_000, 'all three share nodes online');
    await frostbunkerCli('drill', 'refresh', '--dry-run', '--insecure-plaintext', '--data', lab.layout.coordinatorDir);
    client = await connectBunkerSigner(lab.newBunkerUrl(), { onauth: (url) => void authUrls.push(url) });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.on('request', (request) => void requested.push(request.url()));
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await client?.close();
    await lab?.stop();
    dir.remove();
  });

  const health = async () => (await (await fetch(`${lab.adminUrl}/health`)).json()) as Health;

  it('asks for an admin token, refuses a wrong one, and shows three share nodes online after login', async () => {
    await page.goto(`${lab.adminUrl}/`);
    await page.getByLabel('Admin token').waitFor();
    await screenshot('1-login');
    await page.getByLabel('Admin token').fill(`fba_${'0'.repeat(64)}`);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('invalid or revoked admin token');
    await page.getByLabel('Admin token').fill(adminToken);
    await page.keyboard.press('Enter');
    for (const node of ['node-1', 'node-2', 'node-3']) await page.locator(`[data-node="${node}"][data-state="online"]`).waitFor({ timeout: 15_000 });
    expect(await page.locator('#quorum-status').textContent()).toMatch(/Quorum available: 3 of 3 share nodes serving, 2 needed/);
    expect(await page.textContent('main')).toContain('npub1');
    await screenshot('2-quorum');
  });

  it('shows a share node go offline when it stops', async () => {
    await lab.stopNode(3);
    // The quorum monitor marks a node offline after three missed pings (about 6 s in the lab).
    await page.locator('[data-node="node-3"][data-state="offline"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-node="node-1"]').getAttribute('data-state')).toBe('online');
    expect(await page.locator('#quorum-status').textContent()).toMatch(/2 of 3 share nodes serving/);
    await screenshot('3-quorum-node-3-offline');
  });

  it('opens the auth_url link in the approval view and approves from the keyboard; the client gets its signature', async () => {
    // A deletion is a sensitive kind for the coordinator's ACL (asked) but not for the share nodes.
    const deletion = template(5, 'posted by mistake', [['e', 'ab'.repeat(32)], ['k', '1']]);
    const signing = withDeadline(client.signer.signEvent(deletion), 30_000, 'sign kind 5');
    await waitUntil(async () => authUrls.length > 0, 15_000, 'an auth_url');
    const approvalId = authUrls[0]!.slice(authUrls[0]!.lastIndexOf('/') + 1);
    expect(authUrls[0]).toBe(`${lab.adminUrl}/approvals/${approvalId}`);
    await page.goto(authUrls[0]!);
    expect(new URL(page.url()).hash).toBe(`#/approvals/${approvalId}`);
    const decoded = page.locator('#decoded-event');
    await decoded.waitFor();
    expect(await decoded.textContent()).toContain('5 — event deletion request');
    expect(await decoded.textContent()).toContain('posted by mistake');
    expect(await page.locator('main table').last().textContent()).toMatch(/e\s*(ab){32}/);
    await screenshot('4-approval-pending');
    // Keyboard only: Tab from the top of the view until the Approve button has focus, then Enter.
    let focused = '';
    for (let presses = 0; presses < 20 && focused !== 'Approve'; presses++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate<string>("document.activeElement?.textContent ?? ''");
    }
    expect(focused).toBe('Approve');
    await page.keyboard.press('Enter');
    const signed = await signing;
    expect(verifyEvent({ ...signed })).toBe(true);
    expect(signed.pubkey).toBe(lab.userPubkey);
    expect(signed.content).toBe('posted by mistake');
    await expect.poll(() => page.locator('#approval-state').textContent(), { timeout: 10_000 }).toBe('approved');
    expect(await page.textContent('main')).toContain('admin:dash-e2e');
    // And a veto for the activity view: the share nodes refuse a deletion of more than 5 events
    // (their default policy), even once this operator approved it (here through the API).
    const sweeping = template(5, 'delete them all', Array.from({ length: 6 }, (_, i) => ['e', String(i).repeat(64)]));
    const vetoed = expect(withDeadline(client.signer.signEvent(sweeping), 30_000, 'sign a 6-event deletion')).rejects.toThrow(/vetoed by node-[12]: .*deletion_count/);
    await waitUntil(async () => authUrls.length > 1, 15_000, 'a second auth_url');
    const approve = await fetch(`${authUrls[1]!.replace('/approvals/', '/api/v1/approvals/')}/approve`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    expect(approve.status).toBe(200);
    await vetoed;
  });

  it('refuses a session change without the CSRF token, then revokes the client from the page; its next request is refused', async () => {
    await page.goto(`${lab.adminUrl}/#/clients`);
    const card = page.locator(`[data-client="${client.clientPubkey}"]`);
    await card.waitFor();
    // The cookie alone is not enough to change anything.
    const forged = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
      `/api/v1/identities/default/clients/${client.clientPubkey}/revoke`);
    expect(forged).toBe(403);
    expect(await card.textContent()).not.toContain('revoked');

    await card.getByLabel('Reason', { exact: true }).fill('lost phone');
    page.once('dialog', (dialog) => void dialog.accept());
    await card.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => card.locator('h3').textContent(), { timeout: 10_000 }).toContain('revoked');
    await screenshot('5-clients-revoked');
    await expect(withDeadline(client.signer.signEvent(template(1, 'after revoke')), 20_000, 'sign after revoke')).rejects.toThrow(/revoked/);

    const audit = (await (await fetch(`${lab.adminUrl}/api/v1/audit?n=20`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { entries: { actor: string; action: string; reason: string }[] };
    expect(audit.entries).toContainEqual(expect.objectContaining({ actor: 'admin:dash-e2e', action: expect.stringMatching(/revoke/), reason: 'dashboard: lost phone' }));
    expect(audit.entries).toContainEqual(expect.objectContaining({ actor: 'admin:dash-e2e', action: 'approval.approve' }));
  });

  it('shows the activity: signatures per hour, the signing rounds, the request log and the audit log, filterable', async () => {
    await page.goto(`${lab.adminUrl}/#/activity`);
    await page.locator('svg.chart rect.bar-ok').first().waitFor();
    expect(await page.locator('svg.chart rect.bar-fail').count()).toBe(1);
    const signingLog = await page.locator('#signing-log').textContent();
    expect(signingLog).toMatch(/5 event deletion request\s*signed/);
    expect(signingLog).toMatch(/5 event deletion request\s*vetoed\s*\d+ ms\s*node-[12]\s*.*deletion_count/);
    expect(await page.locator('#request-log').textContent()).toContain('operator_approval');
    await page.getByLabel('Filter', { exact: true }).fill('admin:dash-e2e');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#request-log').textContent()).toContain('nothing yet');
    expect(await page.locator('#audit-log').textContent()).toContain('admin:dash-e2e');
    await page.getByLabel('Filter', { exact: true }).fill('');
    await page.keyboard.press('Enter');
    await screenshot('6-activity');
  });

  it('shows the drill report in readable form', async () => {
    await page.goto(`${lab.adminUrl}/#/drills`);
    const report = page.locator('details.drill').first();
    await report.waitFor();
    expect(await report.textContent()).toMatch(/refresh \(dry run\) of default\s*dry-run/);
    expect(await report.locator('pre.report').textContent()).toMatch(/test signature: verified/);
    await screenshot('7-drills');
  });

  it('fits a 390 px wide phone screen without sideways scrolling', async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    for (const [view, ready] of [['quorum', '[data-node="node-1"]'], ['clients', '[data-client]']] as const) {
      await phone.goto(`${lab.adminUrl}/#/${view}`);
      await phone.locator(ready).first().waitFor();
      expect(await phone.evaluate<number>('document.documentElement.scrollWidth'), view).toBeLessThanOrEqual(390);
      await screenshot(`8-phone-${view}`, phone);
    }
    await phone.close();
  });

  it('made no request to anything but the admin server', () => {
    expect(requested.length).toBeGreaterThan(10);
    expect(requested.filter((url) => !url.startsWith(`${lab.adminUrl}/`) && !url.startsWith('data:'))).toEqual([]);
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
