-- 0008_escrow.sql - the escrow portal (DESIGN.md "Escrow portal", issue 6).
-- Message content is stored only sealed (crypto/seal.h: AES-256-GCM with
-- a key per message wrapped by a master key that never lives here).

-- Recipients of escrowed mail: one account per address, created at the
-- first deposit, usable once enrolled (password set).
CREATE TABLE escrow_users (
	id		bigserial PRIMARY KEY,
	address		text NOT NULL UNIQUE,	-- local part as is, domain lower
	password_hash	text,			-- NULL: not enrolled yet
	enrolled_at	timestamptz,
	failed_logins	integer NOT NULL DEFAULT 0,
	locked_until	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now()
);

-- One escrowed copy per (message, recipient).
CREATE TABLE escrow_messages (
	id		text PRIMARY KEY,	-- random, URL-safe (token_new)
	message_id	text NOT NULL,		-- queue id of the original
	recipient_id	bigint,			-- recipients.id (idempotent deposit)
	user_id		bigint NOT NULL REFERENCES escrow_users (id),
	sender		text NOT NULL,		-- envelope sender (reply target)
	sealed		bytea NOT NULL,		-- seal(message), aad = id
	master_id	text NOT NULL,		-- which master key sealed it
	size		integer NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	first_read_at	timestamptz,
	recalled_at	timestamptz,
	purged_at	timestamptz,		-- sealed emptied, row kept for audit
	read_notice	boolean NOT NULL DEFAULT false,
	UNIQUE (message_id, recipient_id)
);
CREATE INDEX escrow_messages_user_idx ON escrow_messages (user_id, created_at);
CREATE INDEX escrow_messages_expiry_idx ON escrow_messages (expires_at)
    WHERE purged_at IS NULL;

-- Link tokens (enrollment, password reset): only the SHA-256 of the
-- token is stored; single use; expiring.
CREATE TABLE escrow_tokens (
	hash		text PRIMARY KEY,	-- token_hash()
	kind		text NOT NULL CHECK (kind IN ('enroll', 'reset')),
	user_id		bigint NOT NULL REFERENCES escrow_users (id)
	    ON DELETE CASCADE,
	escrow_id	text,			-- the message the link was for
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz
);

-- Browser sessions: the cookie holds a token, only its hash is stored.
CREATE TABLE escrow_sessions (
	hash		text PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES escrow_users (id)
	    ON DELETE CASCADE,
	csrf		text NOT NULL,		-- per-session CSRF token
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_seen_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	client_addr	text
);

-- Login throttling per client address (per account: escrow_users).
CREATE TABLE escrow_throttle (
	client_addr	text PRIMARY KEY,
	failures	integer NOT NULL DEFAULT 0,
	window_start	timestamptz NOT NULL DEFAULT now(),
	locked_until	timestamptz
);

-- Every read, download, reply, recall, login, enrollment, reset, purge.
CREATE TABLE escrow_audit (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	escrow_id	text,
	user_id		bigint,
	action		text NOT NULL,
	client_addr	text,
	detail		text NOT NULL DEFAULT ''
);
CREATE INDEX escrow_audit_escrow_idx ON escrow_audit (escrow_id);

-- A message that must leave over required TLS whatever the rules say
-- (secure replies from the portal): the plan is "tls" only.
ALTER TABLE messages ADD COLUMN tls_required boolean NOT NULL DEFAULT false;

-- A recipient handed to the escrow store ends in state 'escrowed'; its
-- attempt says so.
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_outcome_check;
ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_outcome_check
    CHECK (outcome IN ('delivered', 'deferred', 'bounced', 'escrowed'));

-- Notification mail of the escrow store: never escrowed itself (it goes
-- out as ordinary mail, the policy's rules do not apply to it).
ALTER TABLE messages ADD COLUMN escrow_notice boolean NOT NULL DEFAULT false;
