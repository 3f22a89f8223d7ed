import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@frostbunker/shared/errors';
import { openAclDatabase } from './acl-store/database.js';
import { AdminTokenStore } from './admin/admin-token-store.js';
import { AuditLog } from './audit/audit-log.js';

export const ADMIN_TOKEN_USAGE = `  admin-token create --label <name>         a bearer token for the admin API (printed once, stored hashed);
                                            its label names the operator in audit rows (admin:<name>)
  admin-token list                          every admin token: id, label, created, revoked
  admin-token revoke <id>                   the token stops working on its next request`;

export interface AdminTokenCommandOptions {
  dir: string;
  label?: string;
  reason: string;
}

/** `pnpm frostbunker admin-token create|list|revoke`: the admin API's credentials, audited. */
export function runAdminTokenCommand(words: readonly string[], options: AdminTokenCommandOptions, nowSec: () => number): number {
  // Opening creates the database, so a mistyped --data must fail here rather than mint a stray token.
  if (!existsSync(join(options.dir, 'config.json'))) {
    throw new ConfigError('--data', `${options.dir} is not a coordinator directory (no config.json)`);
  }
  const db = openAclDatabase(join(options.dir, 'acl.db'));
  try {
    const tokens = new AdminTokenStore({ db, audit: new AuditLog(db, { nowSec }), nowSec });
    const by = { actor: `cli:${userInfo().username}`, reason: options.reason };
    const [, command, tokenId] = words;
    switch (command) {
      case 'create': {
        if (options.label === undefined) throw new ConfigError('--label', 'name the token, e.g. --label alice (audit rows say admin:<label>)');
        const created = tokens.create(options.label, by);
        console.error(`admin token ${created.tokenId} (${created.label}); it is shown only now. Use it as: Authorization: Bearer <token>`);
        console.log(created.token);
        return 0;
      }
      case 'list': {
        const rows = tokens.list().map((t) => ({
          tokenId: t.tokenId,
          label: t.label,
          createdAt: new Date(t.createdAtSec * 1000).toISOString(),
          ...(t.revokedAtSec === undefined ? {} : { revokedAt: new Date(t.revokedAtSec * 1000).toISOString() }),
        }));
        console.log(JSON.stringify(rows, null, 2));
        return 0;
      }
      case 'revoke': {
        if (tokenId === undefined) throw new ConfigError('admin-token revoke', 'name the token id (pnpm frostbunker admin-token list)');
        const revoked = tokens.revoke(tokenId, by);
        console.log(`revoked admin token ${revoked.tokenId} (${revoked.label})`);
        return 0;
      }
      default:
        throw new ConfigError('admin-token', 'expected create, list or revoke');
    }
  } finally {
    db.close();
  }
}
