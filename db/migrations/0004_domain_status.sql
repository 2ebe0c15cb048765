-- 0004_domain_status.sql - the domain TLS status cache (DESIGN.md "Domain
-- TLS status"), its history, and the TLS-RPT (RFC 8460) daily counts and
-- sent reports.

-- One row per recipient domain: the last probe's result. Written by the
-- prober role and `sealgate probe` (db/domain_db.c), read by delivery.
-- A row with probed_at NULL is a domain seen but never probed yet.
CREATE TABLE domain_tls_status (
	domain		text PRIMARY KEY CHECK (domain = lower(domain)
			    AND length(domain) BETWEEN 1 AND 253),
	probed_at	timestamptz,		-- NULL: never probed
	next_probe_at	timestamptz NOT NULL DEFAULT now(),
	last_seen_at	timestamptz,		-- mail to it was last queued
	probe_lease_until timestamptz,		-- a prober is at it now
	-- derived (NULL until a conclusive probe)
	tls_capable	boolean,		-- every MX: STARTTLS, >= floor,
						-- >= 128-bit cipher
	verify_mode	text CHECK (verify_mode IN
			    ('dane', 'mta-sts', 'pkix', 'none')),
	mx_count	integer,
	min_protocol	text,			-- weakest MX: "TLSv1.2"
	min_cipher_bits	integer,
	mta_sts_mode	text,			-- enforce, testing, none; NULL:
						-- no policy
	mta_sts_id	text,
	dane		boolean,		-- usable TLSA for every MX
	facts		jsonb,			-- per MX host (probe.h)
	error		text			-- why the last probe was
						-- inconclusive or partial
);

CREATE INDEX domain_tls_status_due_idx ON domain_tls_status (next_probe_at);

-- A row whenever tls_capable, verify_mode, the MTA-STS mode or DANE of a
-- domain changed between two probes: when did a domain lose TLS?
CREATE TABLE domain_tls_history (
	id		bigserial PRIMARY KEY,
	domain		text NOT NULL,
	at		timestamptz NOT NULL DEFAULT now(),
	old_tls_capable	boolean,
	new_tls_capable	boolean,
	old_verify_mode	text,
	new_verify_mode	text,
	old_mta_sts_mode text,
	new_mta_sts_mode text,
	old_dane	boolean,
	new_dane	boolean
);

CREATE INDEX domain_tls_history_domain_idx ON domain_tls_history (domain, at);

-- TLS-RPT: sessions per policy domain per UTC day (RFC 8460 4.3). A
-- success row has result_type ''; the other text keys are '' when not
-- known, never NULL, so one unique index covers them.
CREATE TABLE tls_rpt_counts (
	day		date NOT NULL,
	policy_domain	text NOT NULL,
	policy_type	text NOT NULL CHECK (policy_type IN
			    ('sts', 'tlsa', 'no-policy-found')),
	policy_string	text NOT NULL DEFAULT '',	-- lines, LF-separated
	mx_patterns	text NOT NULL DEFAULT '',	-- sts "mx:" values, LF
	result_type	text NOT NULL DEFAULT '',	-- '': success
	receiving_mx	text NOT NULL DEFAULT '',
	receiving_ip	text NOT NULL DEFAULT '',
	sending_ip	text NOT NULL DEFAULT '',
	failure_code	text NOT NULL DEFAULT '',	-- failure-reason-code
	sessions	bigint NOT NULL DEFAULT 0 CHECK (sessions >= 0)
);

CREATE UNIQUE INDEX tls_rpt_counts_key ON tls_rpt_counts (day,
    policy_domain, policy_type, md5(policy_string), md5(mx_patterns),
    result_type, receiving_mx, receiving_ip, sending_ip, failure_code);

-- One row per (policy domain, day) report: claimed by the node that
-- sends it (so several nodes send it once), then its outcome.
CREATE TABLE tls_rpt_reports (
	policy_domain	text NOT NULL,
	day		date NOT NULL,
	report_id	text NOT NULL UNIQUE,
	claimed_at	timestamptz NOT NULL DEFAULT now(),
	finished_at	timestamptz,
	status		text NOT NULL DEFAULT 'sending' CHECK (status IN
			    ('sending', 'sent', 'partial', 'failed',
			     'no-rua')),
	rua		text,			-- where it went, LF-separated
	detail		text,			-- per-URI outcome
	PRIMARY KEY (policy_domain, day)
);
