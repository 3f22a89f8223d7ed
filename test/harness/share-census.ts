import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGroupPackage, SigningShare } from '@frostbunker/shared/crypto';
import type { FrostIdentifier } from '@frostbunker/shared/protocol';

/** What one epoch has on disk across every node directory. */
export interface EpochCensus {
  epoch: number;
  groupKey: string;
  threshold: number;
  /** Node labels whose share for this epoch matches its verifying share in the group package. */
  intact: string[];
  /** Node labels with a share file for this epoch that does not check out. */
  broken: string[];
}

const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/**
 * RELIABILITY.md G12 (a): reads every share node's directory (the lab's plaintext secrets; a sealed
 * file counts as broken here) — the current `config.json` + `secrets.json` and any pending epoch
 * (`pending-epoch.json` + `secrets.pending.json`) — and checks each share's public key against the
 * verifying share the group package of that epoch names for it. A file that is torn, missing or
 * does not match makes the share broken, never intact.
 */
export function shareCensus(nodeDirs: readonly string[]): EpochCensus[] {
  const epochs = new Map<string, EpochCensus>();
  const record = (epoch: number, group: unknown, label: string, identifier: FrostIdentifier, secretsPath: string) => {
    let parsed;
    try {
      parsed = parseGroupPackage(group);
    } catch {
      return;
    }
    const key = `${epoch}:${parsed.groupKey}:${JSON.stringify(parsed.verifyingShares)}`;
    const entry = epochs.get(key) ?? { epoch, groupKey: parsed.groupKey, threshold: parsed.threshold, intact: [], broken: [] };
    epochs.set(key, entry);
    try {
      const secrets = readJson(secretsPath);
      SigningShare.fromHex(identifier, String(secrets.signingShare), parsed);
      entry.intact.push(label);
    } catch {
      entry.broken.push(label);
    }
  };
  for (const dir of nodeDirs) {
    let config: Record<string, unknown>;
    try {
      config = readJson(join(dir, 'config.json'));
    } catch {
      continue;
    }
    const label = String(config.label);
    const identifier = config.identifier as FrostIdentifier;
    record(Number(config.epoch), config.group, label, identifier, join(dir, 'secrets.json'));
    if (existsSync(join(dir, 'pending-epoch.json'))) {
      try {
        const pending = readJson(join(dir, 'pending-epoch.json'));
        // A committed marker whose share was already renamed over secrets.json: counted above.
        if (pending.committed === true && !existsSync(join(dir, 'secrets.pending.json'))) continue;
        record(Number(pending.toEpoch), pending.group, label, identifier, join(dir, 'secrets.pending.json'));
      } catch {
        // A torn marker is no share at all.
      }
    }
  }
  return [...epochs.values()].sort((a, b) => a.epoch - b.epoch);
}

/** The epochs of `groupKey` that k intact shares could still sign for. */
export function signableEpochs(census: readonly EpochCensus[], groupKey: string): EpochCensus[] {
  return census.filter((e) => e.groupKey === groupKey && e.intact.length >= e.threshold);
}
