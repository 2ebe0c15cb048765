-- 0007_policy.sql - the policy engine (DESIGN.md "Rules") and the key
-- store with provenance (issue 5).

-- Ordered rules, first match wins. position is unique but deferrable so
-- `sealgate rule move` can renumber in one transaction.
CREATE TABLE policy_rules (
	id		bigserial PRIMARY KEY,
	position	integer NOT NULL,
	sender_match	text NOT NULL DEFAULT '*',
	rcpt_match	text NOT NULL DEFAULT '*',
	tag		text,			-- NULL: any (tagged or not)
	chain		text NOT NULL,		-- "tls,pgp,smime,escrow"
	tls_floor	text NOT NULL DEFAULT 'encrypt'
	    CHECK (tls_floor IN ('encrypt', 'verify', 'mta-sts', 'dane')),
	on_exhausted	text NOT NULL DEFAULT 'defer'
	    CHECK (on_exhausted IN ('defer', 'bounce')),
	comment		text NOT NULL DEFAULT '',
	created_at	timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT policy_rules_position_key UNIQUE (position)
	    DEFERRABLE INITIALLY IMMEDIATE
);

-- Recipient keys and certificates with their provenance. The material
-- (armored OpenPGP public key, or the certificate in DER) is the
-- authority: every node imports it into its own keyring when it needs
-- it. status: active keys are used; pending ones wait for an admin
-- (a key found automatically that differs from the one in use);
-- rejected ones are kept so they are not offered for review again;
-- retired ones were replaced by an approved newer key.
CREATE TABLE recipient_keys (
	id		bigserial PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('pgp', 'smime')),
	address		text NOT NULL,		-- local part as is, domain lower
	fingerprint	text NOT NULL,		-- pgp: v4 hex; smime: sha256 hex
	source		text NOT NULL
	    CHECK (source IN ('admin', 'wkd', 'harvest')),
	status		text NOT NULL
	    CHECK (status IN ('active', 'pending', 'rejected', 'retired')),
	not_before	timestamptz,
	not_after	timestamptz,		-- NULL: does not expire
	smime_cipher	text CHECK (smime_cipher IN ('gcm', 'cbc')),
	material	bytea NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	first_used	timestamptz,
	last_used	timestamptz,
	reviewed_at	timestamptz,
	note		text NOT NULL DEFAULT '',
	UNIQUE (kind, address, fingerprint)
);
CREATE INDEX recipient_keys_lookup ON recipient_keys (address, kind, status);

-- Automatic lookups (WKD) done for an address, found or not, so a
-- missing key is not fetched again for every message.
CREATE TABLE key_lookups (
	address		text NOT NULL,
	method		text NOT NULL,		-- "wkd"
	checked_at	timestamptz NOT NULL DEFAULT now(),
	found		boolean NOT NULL,
	detail		text NOT NULL DEFAULT '',
	PRIMARY KEY (address, method)
);

-- The plan behind each attempt names the rule that decided it.
ALTER TABLE delivery_attempts ADD COLUMN rule_id bigint;
