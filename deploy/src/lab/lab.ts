import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { z } from 'zod';
import { AuditLog, openAclDatabase, TokenStore } from '@frostbunker/coordinator';
import { PASSPHRASE_ENV, readJsonFile, writeJsonFileAtomic } from '@frostbunker/shared/config';
import { buildBunkerUrl } from './bunker-url.js';
import { readFrostrCredentials } from './frostr-import.js';
import { ensureDkgCoordinatorKeys, ensureLabIdentity, labLayout, writeCoordinatorConfig } from './lab-identity.js';
import { runDkgOverRelays } from '../keygen/dkg-run.js';
import type { DkgReport } from '../keygen/dkg-ceremony.js';
import { ENTRY_POINTS, parseStatusLine, startProcess, type ManagedProcess } from './managed-process.js';

const labStateSchema = z.strictObject({ v: z.literal(1), relayPort: z.number().int().min(1).max(65_535) });
/**
 * What a lab's connection URL permits (NIP-46 perms grammar): every ordinary kind, encryption and
 * the housekeeping methods. Sensitive kinds still need an explicit grant (the live ACL).
 */
export const LAB_PERMS = 'get_public_key,ping,switch_relays,logout,sign_event,nip44_encrypt,nip44_decrypt,nip04_encrypt,nip04_decrypt';
/** How long a lab's bunker:// token can be redeemed (one client each). */
const LAB_TOKEN_TTL_SEC = 24 * 3600;

export interface LabOptions {
  /** Data directory; holds one sub-directory per process, plus `logs/`. */
  root: string;
  /** Existing relays to use instead of starting the embedded one. */
  relays?: string[];
  threshold?: number;
  maxSigners?: number;
  /** Port for the embedded relay; default: the port used last time, or a free one. */
  relayPort?: number;
  startTimeoutMs?: number;
  /**
   * Seal the lab's secrets under this passphrase and hand it to the children in their environment;
   * without it the lab runs with plaintext secrets (`--insecure-plaintext`) and says so.
   */
  passphrase?: string;
  /** Create the identity from FROSTR 2.x credentials in this file instead of a fresh dealer split. */
  importFrostr?: string;
  /**
   * Create the identity by distributed key generation instead of the dealer: the share nodes start
   * as joining nodes (`share-node init`) and run a DKG driven by the coordinator's key; the secret
   * never exists anywhere. Ignored when the lab already has an identity.
   */
  dkg?: boolean;
  /** Progress lines for a person watching (the lab prints them). */
  onProgress?: (line: string) => void;
}

/**
 * A running k-of-n lab: an embedded relay (unless relays were given), the coordinator and one
 * process per share node, each with its own data directory. Used by `pnpm start` and the e2e tests.
 */
export class Lab {
  relay: ManagedProcess | undefined;
  coordinator!: ManagedProcess;
  readonly nodes: (ManagedProcess | undefined)[] = [];
  relayUrls: string[] = [];
  bunkerUrl = '';
  userPubkey = '';
  transportPubkey = '';
  encryptionPubkey = '';
  /** The coordinator's admin API (and approval pages), e.g. `http://127.0.0.1:40123`. */
  adminUrl = '';
  #imported: ReturnType<typeof readFrostrCredentials> | undefined;
  /** The DKG that made this lab's identity (when `dkg` created it in this start). */
  dkgReport: DkgReport | undefined;
  dkgReportPaths: { json: string; text: string } | undefined;

  private constructor(
    readonly options: Required<Pick<LabOptions, 'root' | 'threshold' | 'maxSigners' | 'startTimeoutMs'>> & LabOptions,
  ) {}

  static async start(options: LabOptions): Promise<Lab> {
    const imported = options.importFrostr === undefined ? undefined : readFrostrCredentials(options.importFrostr);
    const shape = imported ? { threshold: imported.group.threshold, maxSigners: imported.group.maxSigners } : {};
    const lab = new Lab({ threshold: 2, maxSigners: 3, startTimeoutMs: 30_000, ...options, ...shape });
    lab.#imported = imported;
    try {
      await lab.#start();
      return lab;
    } catch (error) {
      await lab.stop();
      throw error;
    }
  }

  get layout() {
    return labLayout(this.options.root, this.options.maxSigners);
  }

  async #start(): Promise<void> {
    const progress = this.options.onProgress ?? (() => {});
    this.relayUrls = this.options.relays?.length ? this.options.relays : [await this.#startRelay()];
    if (this.relay) progress(`relay ${this.relayUrls[0]} running (pid ${this.relay.pid})`);
    if (this.#imported && existsSync(join(this.layout.coordinatorDir, 'config.json'))) {
      throw new Error(`${this.options.root} already holds an identity; import FROSTR credentials into a new --data directory`);
    }
    if (this.options.dkg && !existsSync(join(this.layout.coordinatorDir, 'config.json'))) {
      await this.#createByDkg();
      await this.#startCoordinator();
      progress(`coordinator running (pid ${this.coordinator.pid})`);
      this.bunkerUrl = this.newBunkerUrl();
      return;
    }
    const identity = await ensureLabIdentity({
      ...this.options,
      relays: this.relayUrls,
      ...(this.#imported ? { imported: this.#imported } : {}),
    });
    if (this.#imported) progress(`imported ${this.#imported.shares.length} FROSTR shares (threshold ${this.#imported.group.threshold})`);
    progress(identity.created ? `created a ${this.options.threshold}-of-${this.options.maxSigners} identity in ${this.options.root}` : `using the identity in ${this.options.root}`);
    if (this.options.passphrase === undefined) {
      progress('secrets are stored in plaintext files (--insecure-plaintext): a lab, not a home for a real identity');
    }

    await this.#startCoordinator();
    progress(`coordinator running (pid ${this.coordinator.pid})`);

    for (let index = 1; index <= this.options.maxSigners; index++) {
      await this.startNode(index);
      progress(`share-node node-${index} running (pid ${this.nodes[index - 1]!.pid})`);
    }
    this.bunkerUrl = this.newBunkerUrl();
  }

  /**
   * DKG: the coordinator's own keys, `share-node init` in each node directory, the nodes started
   * (joining), then the ceremony; its commit writes the coordinator's config.json.
   */
  async #createByDkg(): Promise<void> {
    const progress = this.options.onProgress ?? (() => {});
    for (const dir of this.layout.nodeDirs) {
      if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: a DKG lab needs new node directories`);
    }
    const keys = await ensureDkgCoordinatorKeys(this.layout.coordinatorDir, this.options.passphrase === undefined ? {} : { passphrase: this.options.passphrase });
    const cli = ENTRY_POINTS.shareNode.replace(/main\.js$/, 'cli.js');
    const members: { label: string; nodePubkey: string }[] = [];
    for (const [i, dir] of this.layout.nodeDirs.entries()) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const label = `node-${i + 1}`;
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [cli, 'init', '--data', dir, '--coordinator', keys.coordinatorPubkey, ...this.relayUrls.flatMap((r) => ['--relay', r]), '--label', label, '--encryption-pubkey', keys.encryptionPubkey, ...this.#secretsArgs()],
        { env: this.#childEnv(), timeout: 30_000 },
      );
      members.push({ label, nodePubkey: stdout.trim().split('\n').pop()! });
    }
    for (let index = 1; index <= this.options.maxSigners; index++) {
      await this.startNode(index);
      progress(`share-node node-${index} running, joining (pid ${this.nodes[index - 1]!.pid})`);
    }
    const { report, paths } = await runDkgOverRelays({
      coordinatorDir: this.layout.coordinatorDir,
      coordinatorSecretKey: keys.coordinatorSecretKey,
      relays: this.relayUrls,
      threshold: this.options.threshold,
      members: members as never,
      commit: (group, enrolled) => writeCoordinatorConfig({ coordinatorDir: this.layout.coordinatorDir, relays: this.relayUrls, adminPort: 0, group, members: enrolled }),
      progress,
    });
    this.dkgReport = report;
    this.dkgReportPaths = paths;
    if (report.outcome !== 'committed') throw new Error(`DKG aborted: ${report.failure?.reason ?? 'unknown'} (report ${paths.text})`);
    progress(`created a ${this.options.threshold}-of-${this.options.maxSigners} identity by DKG: ${report.npub} (report ${paths.text})`);
  }

  /** A fresh one-time connection token for one more client, as a bunker:// URL. */
  newBunkerUrl(perms = LAB_PERMS): string {
    // The coordinator runs WAL with a busy timeout, so a second writer on the same host is fine.
    const db = openAclDatabase(join(this.layout.coordinatorDir, 'acl.db'));
    try {
      const nowSec = () => Math.floor(Date.now() / 1000);
      const tokens = new TokenStore({ db, audit: new AuditLog(db, { nowSec }), identity: 'default', nowSec });
      const token = tokens.create({ perms, ttlSec: LAB_TOKEN_TTL_SEC, label: 'lab', actor: 'lab' });
      return buildBunkerUrl(this.transportPubkey, this.relayUrls, token.secret);
    } finally {
      db.close();
    }
  }

  #secretsArgs(): string[] {
    return this.options.passphrase === undefined ? ['--insecure-plaintext'] : [];
  }

  #childEnv(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    delete env[PASSPHRASE_ENV];
    if (this.options.passphrase !== undefined) env[PASSPHRASE_ENV] = this.options.passphrase;
    return env;
  }

  async #startCoordinator(): Promise<void> {
    this.coordinator = startProcess({
      name: 'coordinator',
      script: ENTRY_POINTS.coordinator,
      args: ['--data', this.layout.coordinatorDir, ...this.#secretsArgs(), ...this.relayUrls.flatMap((r) => ['--relay', r])],
      logFile: join(this.options.root, 'logs', 'coordinator.log'),
      env: this.#childEnv(),
    });
    const identityLine = await this.coordinator.waitForLine((l) => parseStatusLine(l)?.event === 'identity', this.options.startTimeoutMs);
    const status = parseStatusLine(identityLine)!;
    // The admin server listens before the identities start, so its line is already there.
    const adminLine = await this.coordinator.waitForLine((l) => parseStatusLine(l)?.event === 'admin', this.options.startTimeoutMs);
    this.adminUrl = String(parseStatusLine(adminLine)!.url);
    this.userPubkey = String(status.userPubkey);
    this.transportPubkey = String(status.transportPubkey);
    this.encryptionPubkey = String(status.encryptionPubkey);
  }

  /** Stops the coordinator (SIGKILL when `kill`) and starts it again on the same data. */
  async restartCoordinator(kill = false): Promise<void> {
    if (kill) this.coordinator.child.kill('SIGKILL');
    await this.coordinator.stop();
    await this.#startCoordinator();
  }

  /**
   * Starts (or restarts) share node `index` (1-based); `env` adds variables (crash tests:
   * FROSTBUNKER_FAILPOINTS); `dataDir` runs a node beyond the lab's n (a joining node for a reshare).
   */
  async startNode(index: number, env: Record<string, string> = {}, dataDir = this.layout.nodeDirs[index - 1]!): Promise<ManagedProcess> {
    const node = startProcess({
      name: `node-${index}`,
      script: ENTRY_POINTS.shareNode,
      args: ['--data', dataDir, ...this.#secretsArgs(), ...this.relayUrls.flatMap((r) => ['--relay', r])],
      logFile: join(this.options.root, 'logs', `node-${index}.log`),
      env: { ...this.#childEnv(), ...env },
    });
    this.nodes[index - 1] = node;
    await node.waitForLine((l) => parseStatusLine(l)?.event === 'started', this.options.startTimeoutMs);
    return node;
  }

  /** Stops share node `index` (1-based) with SIGTERM, or SIGKILL when `kill` is set. */
  async stopNode(index: number, kill = false): Promise<void> {
    const node = this.nodes[index - 1];
    if (!node) return;
    if (kill) node.child.kill('SIGKILL');
    await node.stop();
    this.nodes[index - 1] = undefined;
  }

  /** Resolves once the coordinator reports at least k share nodes answering. */
  async waitForQuorum(timeoutMs = this.options.startTimeoutMs): Promise<void> {
    await this.coordinator.waitForLine((l) => {
      const s = parseStatusLine(l);
      return s?.event === 'quorum' && s.available === true;
    }, timeoutMs);
  }

  /** Resolves with the id of the kind-10044 event once the coordinator has announced its encryption key. */
  async waitForAnnouncement(timeoutMs = this.options.startTimeoutMs): Promise<string> {
    const line = await this.coordinator.waitForLine((l) => parseStatusLine(l)?.event === 'announced', timeoutMs);
    return String(parseStatusLine(line)!.eventId);
  }

  /** Resolves once the coordinator reports every node in `labels` answering (from now on). */
  async waitForOnline(labels: readonly string[], timeoutMs = this.options.startTimeoutMs): Promise<void> {
    await this.coordinator.waitForLine(
      (l) => {
        const s = parseStatusLine(l);
        return s?.event === 'quorum' && labels.every((label) => (s.online as string[]).includes(label));
      },
      timeoutMs,
      { onlyNew: true },
    );
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n?.stop()));
    await this.coordinator?.stop();
    await this.relay?.stop();
  }

  async #startRelay(): Promise<string> {
    const statePath = join(this.options.root, 'lab.json');
    const saved = existsSync(statePath) ? readJsonFile(statePath, labStateSchema).relayPort : undefined;
    const wanted = this.options.relayPort ?? saved ?? 0;
    let url: string;
    try {
      url = await this.#spawnRelay(wanted);
    } catch (error) {
      if (wanted === 0) throw error;
      // The saved port is taken: take any free one (the bunker URL changes, and the lab says so).
      this.options.onProgress?.(`relay port ${wanted} is busy; using another (the bunker URL changes)`);
      url = await this.#spawnRelay(0);
    }
    const port = Number(new URL(url).port);
    if (port !== saved) writeJsonFileAtomic(statePath, { v: 1, relayPort: port });
    return url;
  }

  async #spawnRelay(port: number): Promise<string> {
    this.relay = startProcess({
      name: 'relay',
      script: ENTRY_POINTS.relay,
      args: ['--host', '127.0.0.1', '--port', String(port)],
      logFile: join(this.options.root, 'logs', 'relay.log'),
    });
    const line = await this.relay.waitForLine((l) => l.startsWith('relay listening '), this.options.startTimeoutMs);
    return line.slice('relay listening '.length).trim();
  }
}
