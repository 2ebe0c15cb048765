-- 0002_delivery.sql - the delivery audit: one row per attempt to deliver
-- a recipient, saying how the hop was protected (DESIGN.md step 5).

CREATE TABLE delivery_attempts (
	id		bigserial PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	message_id	text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	recipient_id	bigint REFERENCES recipients (id) ON DELETE CASCADE,
	rcpt		text NOT NULL,
	method		text NOT NULL,		-- tls, plain (later pgp, smime, escrow)
	tls_level	text NOT NULL,		-- none, may, encrypt, verify
	reason		text,			-- why this plan (decide())
	mx_host		text,
	mx_addr		text,
	tls_protocol	text,			-- NULL: the hop was plaintext
	tls_cipher	text,
	tls_bits	integer,
	tls_verified	text NOT NULL DEFAULT 'none',	-- none, ca, failed
	outcome		text NOT NULL CHECK (outcome IN
			    ('delivered', 'deferred', 'bounced')),
	reply		text,			-- remote reply or local reason
	duration_ms	integer
);

CREATE INDEX delivery_attempts_message_idx ON delivery_attempts (message_id);
CREATE INDEX delivery_attempts_rcpt_idx ON delivery_attempts (lower(rcpt));

-- who is delivering what right now: claims by node
CREATE INDEX recipients_lease_owner_idx ON recipients (lease_owner)
    WHERE lease_owner IS NOT NULL;
