/**
 * Schema migrations, applied in order inside one transaction each; `user_version` records the last.
 * Never edit a shipped migration: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the audit log (append-only, hash-chained) and the request log.
  `
  CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY,
    at_sec     INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    before     TEXT,
    after      TEXT,
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE
  );
  -- Append-only at the database level: a change is a new row, never an edit (Vault, RELIABILITY 2.1).
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

  CREATE TABLE request_log (
    request_seq    INTEGER PRIMARY KEY,
    at_sec         INTEGER NOT NULL,
    identity       TEXT    NOT NULL,
    client_pubkey  TEXT    NOT NULL,
    request_id     TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    kind           INTEGER,
    event_id       TEXT,
    decision       TEXT    NOT NULL,
    rule           TEXT    NOT NULL,
    grant_id       TEXT
  );
  CREATE INDEX request_log_usage ON request_log (grant_id, at_sec) WHERE grant_id IS NOT NULL;
  CREATE INDEX request_log_client ON request_log (client_pubkey, at_sec);
  `,
  // 2: subjects, grants and denials (DESIGN.md Live ACL; row shapes in acl/types.ts).
  `
  CREATE TABLE subjects (
    identity       TEXT    NOT NULL,
    client_pubkey  TEXT    NOT NULL,
    trust_level    TEXT    NOT NULL,
    revoked_at_sec INTEGER,
    suspended_until_sec INTEGER,
    suspension_reason   TEXT,
    suspension_actor    TEXT,
    created_at_sec INTEGER NOT NULL,
    PRIMARY KEY (identity, client_pubkey)
  );
  CREATE TABLE grants (
    grant_id       TEXT    PRIMARY KEY,
    identity       TEXT    NOT NULL,
    client_pubkey  TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    kind           TEXT,
    not_before_sec INTEGER,
    expires_at_sec INTEGER,
    usage_cap_max  INTEGER,
    usage_cap_window_sec INTEGER,
    revoked_at_sec INTEGER,
    source         TEXT    NOT NULL,
    created_at_sec INTEGER NOT NULL
  );
  CREATE INDEX grants_client ON grants (identity, client_pubkey);
  CREATE TABLE denials (
    denial_id      TEXT    PRIMARY KEY,
    identity       TEXT    NOT NULL,
    client_pubkey  TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    kind           TEXT,
    until_sec      INTEGER,
    reason         TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    created_at_sec INTEGER NOT NULL
  );
  CREATE INDEX denials_client ON denials (identity, client_pubkey);
  `,
  // 3: one-time connection tokens (bunker:// secrets), stored hashed, bound to their perms.
  `
  CREATE TABLE tokens (
    token_id        TEXT    PRIMARY KEY,
    identity        TEXT    NOT NULL,
    secret_hash     TEXT    NOT NULL UNIQUE,
    perms           TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    created_at_sec  INTEGER NOT NULL,
    expires_at_sec  INTEGER NOT NULL,
    grant_expires_at_sec INTEGER,
    redeemed_by     TEXT,
    redeemed_at_sec INTEGER,
    revoked_at_sec  INTEGER
  );
  CREATE INDEX tokens_redeemed_by ON tokens (identity, redeemed_by);
  `,
  // 4: replay protection that survives a restart (RELIABILITY.md decision 2): (client, request id)
  // seen inside the request window. Rows older than the window are pruned.
  `
  CREATE TABLE seen_requests (
    request_key TEXT    PRIMARY KEY,
    seen_at_sec INTEGER NOT NULL
  );
  CREATE INDEX seen_requests_age ON seen_requests (seen_at_sec);
  `,
  // 5: requests waiting for a decision (NIP-46 auth_url): an operator's, or a share node operator's.
  // request_json holds what the operator must see to decide and is cleared once the request is
  // answered; answered_at_sec lets a restarted coordinator finish what a crash interrupted.
  `
  CREATE TABLE approvals (
    approval_id     TEXT    PRIMARY KEY,
    identity        TEXT    NOT NULL,
    client_pubkey   TEXT    NOT NULL,
    request_id      TEXT    NOT NULL,
    method          TEXT    NOT NULL,
    kind            INTEGER,
    event_id        TEXT,
    request_json    TEXT,
    scheme          TEXT    NOT NULL,
    rule            TEXT    NOT NULL,
    waiting_on      TEXT    NOT NULL,
    created_at_sec  INTEGER NOT NULL,
    expires_at_sec  INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    decided_by      TEXT,
    decided_at_sec  INTEGER,
    decision_reason TEXT,
    answered_at_sec INTEGER
  );
  CREATE INDEX approvals_open ON approvals (identity, answered_at_sec);
  `,
  // 6: bearer tokens of the admin API (issue 3): only the sha256 of each token is stored; a label
  // names the operator in audit rows (actor admin:<label>), so no two live tokens share one.
  `
  CREATE TABLE admin_tokens (
    token_id        TEXT    PRIMARY KEY,
    label           TEXT    NOT NULL,
    token_hash      TEXT    NOT NULL UNIQUE,
    created_at_sec  INTEGER NOT NULL,
    revoked_at_sec  INTEGER
  );
  CREATE UNIQUE INDEX admin_tokens_live_label ON admin_tokens (label) WHERE revoked_at_sec IS NULL;
  `,
  // 7: requests in flight (RELIABILITY.md G10: a request pending at a crash gets an answer after
  // restart, never silence). A seen request is unanswered until its reply is published; rows seen
  // before this migration count as answered.
  `
  ALTER TABLE seen_requests ADD COLUMN reply_scheme TEXT;
  ALTER TABLE seen_requests ADD COLUMN answered INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX seen_requests_unanswered ON seen_requests (answered) WHERE answered = 0;
  `,
  // 8: how each signing round ended (issue 10, the dashboard's activity view): latency when it
  // signed, the error code and, for a veto, the refusing node and its reason. Metadata only.
  `
  CREATE TABLE sign_outcomes (
    outcome_seq  INTEGER PRIMARY KEY,
    at_sec       INTEGER NOT NULL,
    identity     TEXT    NOT NULL,
    kind         INTEGER NOT NULL,
    event_id     TEXT    NOT NULL,
    ok           INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL,
    code         TEXT,
    node         TEXT,
    reason       TEXT
  );
  CREATE INDEX sign_outcomes_at ON sign_outcomes (at_sec);
  `,
];
