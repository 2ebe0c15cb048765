-- 0001_init.sql - the durable queue and SMTP AUTH users.
--
-- Runs inside one transaction (db/migrate.c); never edit a migration that
-- has shipped: add 0002_... instead.
-- Later migrations are expected to add delivery_attempts (one row per
-- attempt: time, MX, address, TLS facts, verification, method, reply,
-- referencing recipients(id)), domain TLS status and rules.

-- One row per accepted message: the bytes as queued plus envelope and
-- the facts of the inbound hop. Written once by ingress, never updated.
CREATE TABLE messages (
	id		text PRIMARY KEY,	-- queue id (gateway/lib/queue_id.h)
	received_at	timestamptz NOT NULL DEFAULT now(),
	mail_from	text NOT NULL,		-- '' for the null reverse-path
	mail_params	text,			-- MAIL FROM parameters as sent
	body_type	text,			-- '7BIT' / '8BITMIME'
	requiretls	boolean NOT NULL DEFAULT false,	-- RFC 8689
	size		bigint NOT NULL CHECK (size >= 0),
	-- text, not inet: a scoped IPv6 address ("fe80::1%eth0") must never
	-- make a message unqueueable
	client_addr	text,
	client_helo	text,
	auth_user	text,			-- NULL: not authenticated
	tls_protocol	text,			-- NULL: plaintext inbound hop
	tls_cipher	text,
	tls_bits	integer,
	data		bytea NOT NULL		-- exact bytes, CRLF lines
);

CREATE INDEX messages_received_at_idx ON messages (received_at);

-- One row per (message, recipient): the unit the delivery side claims
-- with SELECT ... FOR UPDATE SKIP LOCKED and a lease.
CREATE TABLE recipients (
	id		bigserial PRIMARY KEY,
	message_id	text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	rcpt		text NOT NULL,
	-- after the last '@' (a quoted local part may hold one); lower case
	-- so delivery can group by domain
	domain		text GENERATED ALWAYS AS
			    (lower(substring(rcpt FROM '@([^@]*)$'))) STORED,
	state		text NOT NULL DEFAULT 'queued' CHECK (state IN
			    ('queued', 'deferred', 'delivered', 'escrowed',
			     'bounced')),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at	timestamptz NOT NULL DEFAULT now(),
	lease_owner	text,			-- node/worker holding the claim
	lease_until	timestamptz,		-- claim expires: a dead node's
						-- work falls out
	last_reply	text,			-- last remote reply or reason
	updated_at	timestamptz NOT NULL DEFAULT now(),
	-- the same address twice in one envelope is delivered once
	UNIQUE (message_id, rcpt)
);

-- The delivery runner's question: what is due now?
CREATE INDEX recipients_state_next_idx ON recipients (state, next_attempt_at);

-- SMTP AUTH accounts; password_hash is crypto/passwd.h's format.
CREATE TABLE users (
	name		text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 255),
	password_hash	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	disabled	boolean NOT NULL DEFAULT false
);
