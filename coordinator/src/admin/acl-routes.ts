import { z } from 'zod';
import { parsePerms } from '../acl/perms.js';
import { AclAdmin } from '../acl-store/acl-admin.js';
import { TokenStore } from '../acl-store/token-store.js';
import { createConnectionToken } from '../connection-token.js';
import type { AclViews } from './acl-views.js';
import { actorOf, type Operator } from './auth.js';
import type { AdminDeps, AdminIdentity } from './context.js';
import { AdminError } from './http-errors.js';
import { defineRoute, type Route } from './route.js';
import {
  clientParams,
  clientView,
  connectionTokenBody,
  denyBody,
  grantBody,
  identityParams,
  identityView,
  reasonBody,
  suspendBody,
  trustBody,
} from './schemas.js';

const TAG = 'acl';
const CLIENT_URL = '/api/v1/identities/:identity/clients/:client';

/**
 * The live ACL over HTTP: the same operations as `pnpm frostbunker trust|grant|deny|suspend|revoke|
 * clients|token create`, through the same audited domain operations (AclAdmin, TokenStore), with
 * the actor `admin:<token label>`.
 */
export function aclRoutes(deps: AdminDeps, views: AclViews): Route[] {
  const identityNamed = (name: string): AdminIdentity => {
    const identity = deps.identities.find((i) => i.name === name);
    if (!identity) throw new AdminError(404, 'NOT_FOUND', `no identity "${name}"`);
    return identity;
  };
  const adminFor = (name: string) => new AclAdmin({ db: deps.db, audit: deps.audit, identity: identityNamed(name).name, nowSec: deps.nowSec });
  const by = (operator: Operator, reason: string) => ({ actor: actorOf(operator), reason });
  const requireSubject = (identity: string, client: string) => {
    if (!views.hasSubject(identity, client)) throw new AdminError(404, 'NOT_FOUND', `no client ${client} for identity "${identity}"`);
  };
  const clientResult = z.object({ client: clientView });

  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/identities',
      summary: 'The identities this coordinator signs for',
      tag: TAG,
      access: 'operator',
      response: z.object({ identities: z.array(identityView) }),
      handler: () => ({ identities: [...deps.identities] }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/identities/:identity/clients',
      summary: 'Every known client of an identity with its trust level, grants and denials',
      tag: TAG,
      access: 'operator',
      params: identityParams,
      response: z.object({ clients: z.array(clientView) }),
      errors: [404],
      handler: ({ params }) => ({ clients: views.clients(identityNamed(params.identity).name) }),
    }),
    defineRoute({
      method: 'POST',
      url: `${CLIENT_URL}/trust`,
      summary: "Set a client's trust level (creates the client)",
      tag: TAG,
      access: 'operator',
      params: clientParams,
      body: trustBody,
      response: clientResult,
      errors: [404],
      handler: ({ params, body, operator }) => {
        adminFor(params.identity).setTrustLevel(params.client, body.trustLevel, by(operator, body.reason));
        return { client: views.client(params.identity, params.client) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${CLIENT_URL}/grants`,
      summary: 'Grant NIP-46 perms, optionally expiring and capped',
      tag: TAG,
      access: 'operator',
      params: clientParams,
      body: grantBody,
      response: clientResult.extend({ grantIds: z.array(z.string()) }),
      errors: [404],
      handler: ({ params, body, operator }) => {
        const admin = adminFor(params.identity);
        const specs = parsePerms(body.perms);
        if (specs.length === 0) throw new AdminError(400, 'INVALID_REQUEST', 'body.perms: names no permission');
        const expiresAtSec = body.ttlSec === undefined ? undefined : deps.nowSec() + body.ttlSec;
        // All the perms or none: AclAdmin's transactions nest as savepoints inside this one.
        const grantIds = deps.db.transaction(() =>
          specs.map((spec) =>
            admin.grant({
              clientPubkey: params.client,
              method: spec.method,
              ...(spec.method === 'sign_event' ? { kind: spec.kind } : {}),
              ...(expiresAtSec === undefined ? {} : { expiresAtSec }),
              ...(body.cap ? { usageCap: body.cap } : {}),
            }, by(operator, body.reason)),
          ),
        ).immediate();
        return { grantIds, client: views.client(params.identity, params.client) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${CLIENT_URL}/denials`,
      summary: 'Deny one perm (or * for every method), optionally for a while; beats every grant and trust',
      tag: TAG,
      access: 'operator',
      params: clientParams,
      body: denyBody,
      response: clientResult.extend({ denialId: z.string() }),
      errors: [404],
      handler: ({ params, body, operator }) => {
        const admin = adminFor(params.identity);
        const specs = body.perm.trim() === '*' ? [] : parsePerms(body.perm);
        if (body.perm.trim() !== '*' && specs.length !== 1) throw new AdminError(400, 'INVALID_REQUEST', 'body.perm: expected *, one method, or sign_event:<kind>');
        const spec = specs[0];
        const denialId = admin.deny({
          clientPubkey: params.client,
          method: spec?.method ?? '*',
          ...(spec?.method === 'sign_event' ? { kind: spec.kind } : {}),
          ...(body.forSec === undefined ? {} : { untilSec: deps.nowSec() + body.forSec }),
        }, by(operator, body.reason));
        return { denialId, client: views.client(params.identity, params.client) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${CLIENT_URL}/suspend`,
      summary: 'Refuse everything from a known client for a while',
      tag: TAG,
      access: 'operator',
      params: clientParams,
      body: suspendBody,
      response: clientResult,
      errors: [404],
      handler: ({ params, body, operator }) => {
        const admin = adminFor(params.identity);
        requireSubject(params.identity, params.client);
        admin.suspendSubject(params.client, deps.nowSec() + body.forSec, by(operator, body.reason));
        return { client: views.client(params.identity, params.client) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: `${CLIENT_URL}/revoke`,
      summary: 'Refuse everything from a known client, for good',
      tag: TAG,
      access: 'operator',
      params: clientParams,
      body: reasonBody,
      response: clientResult,
      errors: [404],
      handler: ({ params, body, operator }) => {
        const admin = adminFor(params.identity);
        requireSubject(params.identity, params.client);
        admin.revokeSubject(params.client, by(operator, body.reason));
        return { client: views.client(params.identity, params.client) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/identities/:identity/connection-tokens',
      summary: 'A one-time connection token as a bunker:// URL (shown once)',
      tag: TAG,
      access: 'operator',
      params: identityParams,
      body: connectionTokenBody,
      response: z.object({ tokenId: z.string(), perms: z.string(), expiresAtSec: z.number(), bunkerUrl: z.string() }),
      errors: [404],
      handler: ({ params, body, operator }) => {
        const identity = identityNamed(params.identity);
        // @NOTE TokenStore records the label as the audit reason; it takes no separate reason.
        const token = createConnectionToken(new TokenStore({ db: deps.db, audit: deps.audit, identity: identity.name, nowSec: deps.nowSec }), {
          transportPubkey: identity.transportPubkey,
          relays: deps.relays,
          ...(body.perms === undefined ? {} : { perms: body.perms }),
          ttlSec: body.ttlSec,
          label: body.label,
          actor: actorOf(operator),
        });
        return { tokenId: token.tokenId, perms: token.perms, expiresAtSec: token.expiresAtSec, bunkerUrl: token.bunkerUrl };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/v1/identities/:identity/nostrconnect',
      summary: "Accept a client's nostrconnect:// URI: grant it the perms given here (never the ones it asks for) and answer it on its relays",
      tag: TAG,
      access: 'operator',
      params: identityParams,
      body: z.strictObject({
        uri: z.string().min(1).max(8_192),
        perms: z.string().min(1).max(4_096).optional().describe('what the client gets; default: what a typical client needs'),
        ttlSec: z.number().int().positive().optional().describe('the grants end after this many seconds; default never'),
      }),
      response: z.object({ clientPubkey: z.string(), tokenId: z.string(), perms: z.string(), requestedPerms: z.string().optional(), answeredOn: z.array(z.string()) }),
      errors: [400, 404],
      handler: async ({ params, body, operator }) => {
        const identity = identityNamed(params.identity);
        if (!deps.acceptNostrConnect) throw new AdminError(503, 'UNAVAILABLE', 'nostrconnect needs the running coordinator');
        return deps.acceptNostrConnect(identity.name, body, actorOf(operator));
      },
    }),
  ];
}
