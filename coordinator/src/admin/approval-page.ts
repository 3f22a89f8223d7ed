import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isApprovalId, type ApprovalRecord } from '../approvals/approval-store.js';
import type { OperatorAuth } from './auth.js';
import type { AdminDeps } from './context.js';
import { defineRoute, type Route } from './route.js';
import { strictCsp } from './security-headers.js';

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;background:#f6f7f9;color:#1d232b}
main{max-width:46rem;margin:auto;background:#fff;border:1px solid #d9dde3;border-radius:8px;padding:1.5rem}
h1{font-size:1.3rem;margin-top:0}code,pre{font:14px/1.4 ui-monospace,monospace}
pre{background:#f0f2f5;padding:.75rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.state{font-weight:600}`;
/** The page's only style, allowed by hash: the CSP stays default-src 'none' otherwise. */
const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;
const PAGE_CSP = strictCsp(`style-src '${STYLE_HASH}'`);

const STATE_TEXT: Record<ApprovalRecord['state'], string> = {
  pending: 'waiting for a decision',
  approved: 'approved',
  denied: 'denied',
  expired: 'expired (nobody decided in time)',
};

/**
 * `GET /approvals/:approvalId`: the link NIP-46 clients get in `auth_url`. Anyone holding the link
 * can open it, so without authentication it shows only the request's id, its state and how an
 * operator decides; what the request asks for is behind the admin token (GET /api/v1/approvals/:id).
 * An operator logged in to the dashboard is sent on to its approval view (the cookie is SameSite=
 * Strict, so a link followed from another site lands here first; the page links there too).
 */
export function approvalPageRoute(deps: AdminDeps, baseUrl: () => string, auth?: Pick<OperatorAuth, 'sessionOf'>): Route {
  return defineRoute({
    method: 'GET',
    url: '/approvals/:approvalId',
    summary: 'The approval page NIP-46 clients link to (auth_url): id, state and how to decide; no request content',
    tag: 'approvals',
    access: 'public',
    params: z.strictObject({ approvalId: z.string().max(100) }),
    response: z.string(),
    contentType: 'text/html',
    errors: [404],
    handler: ({ params, reply }) => {
      void reply.header('content-security-policy', PAGE_CSP);
      deps.approvals.expireDue();
      const record = isApprovalId(params.approvalId) ? deps.approvals.get(params.approvalId) : undefined;
      if (record && auth?.sessionOf(reply.request)) {
        void reply.code(303).header('location', dashboardLink(record.approvalId));
        return '';
      }
      if (!record) {
        void reply.code(404);
        return page('Unknown request', '<p>There is no request with this id on this frostbunker. The link may be wrong or from another bunker.</p>');
      }
      return page(`Request ${record.approvalId}`, describe(record, deps.dataDir, baseUrl()), record.state === 'pending');
    },
  });
}

function describe(record: ApprovalRecord, dataDir: string, baseUrl: string): string {
  const id = escapeHtml(record.approvalId);
  const state = `<p>Request <code>${id}</code> is <span class="state">${escapeHtml(STATE_TEXT[record.state])}</span>.</p>`;
  if (record.state !== 'pending') return state;
  if (record.waitingOn !== 'operator') {
    const node = escapeHtml(record.waitingOn.slice('node:'.length));
    return `${state}<p>It waits on the operator of share node <code>${node}</code>, who decides on that node (<code>pnpm share-node approve|deny</code>).</p>`;
  }
  const data = shellQuote(dataDir);
  const api = `${baseUrl.replace(/\/$/, '')}/api/v1/approvals/${record.approvalId}`;
  return `${state}
<p>The operator of this frostbunker decides, on the coordinator's host:</p>
<pre>pnpm frostbunker approve ${id} --data ${escapeHtml(data)}
pnpm frostbunker reject ${id} --data ${escapeHtml(data)}</pre>
<p>or with an admin token (<code>pnpm frostbunker admin-token create --label &lt;name&gt; --data ${escapeHtml(data)}</code>), first reading what the request asks for:</p>
<pre>curl -H "Authorization: Bearer $FROSTBUNKER_ADMIN_TOKEN" ${escapeHtml(api)}
curl -X POST -H "Authorization: Bearer $FROSTBUNKER_ADMIN_TOKEN" ${escapeHtml(api)}/approve
curl -X POST -H "Authorization: Bearer $FROSTBUNKER_ADMIN_TOKEN" ${escapeHtml(api)}/deny</pre>
<p>Or <a href="${escapeHtml(dashboardLink(record.approvalId))}">decide in the dashboard</a> (log in with an admin token).</p>
<p>This page refreshes itself until the request is decided.</p>`;
}

/** The dashboard's view of one approval (a same-origin link, so the session cookie goes with it). */
function dashboardLink(approvalId: string): string {
  return `/#/approvals/${approvalId}`;
}

function page(title: string, body: string, refresh = false): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">${refresh ? '<meta http-equiv="refresh" content="5">' : ''}
<title>frostbunker: ${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The directory as a shell word (quoted only when it needs to be). */
function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
