-- 0003_mta_sts.sql - the MTA-STS policy cache (RFC 8461 5.1), written
-- by gateway/mta_sts.c: one row per policy domain, keyed by the exact
-- domain (a subdomain never shares its parent's row).
--
-- A row holds the cached policy (policy_id .. policy_text, all NULL when
-- none was ever fetched), what the last check saw (last_checked,
-- last_txt_id, last_error) and the last failed fetch (failed_id,
-- failed_at), so the same TXT id is not fetched again at once. Rows
-- exist only for domains that published an MTA-STS TXT record.

CREATE TABLE mta_sts_policies (
	domain		text PRIMARY KEY CHECK (domain = lower(domain)
			    AND length(domain) BETWEEN 1 AND 253),
	policy_id	text CHECK (policy_id ~ '^[A-Za-z0-9]{1,32}$'),
	mode		text CHECK (mode IN ('enforce', 'testing', 'none')),
	mx		text[],			-- patterns, lower case
	max_age		bigint CHECK (max_age BETWEEN 0 AND 31557600),
	fetched_at	timestamptz,
	expires_at	timestamptz,		-- fetched_at + max_age
	policy_text	text,			-- the body as served
	last_checked	timestamptz NOT NULL,	-- last TXT check
	last_txt_id	text,			-- id in DNS then; NULL: none
	last_error	text,			-- why the last check gave no
						-- fresh or same-id policy
	failed_id	text,			-- TXT id whose fetch failed
	failed_at	timestamptz,
	-- a cached policy is all there or not at all
	CHECK ((policy_id IS NULL) = (mode IS NULL)
	    AND (policy_id IS NULL) = (mx IS NULL)
	    AND (policy_id IS NULL) = (max_age IS NULL)
	    AND (policy_id IS NULL) = (fetched_at IS NULL)
	    AND (policy_id IS NULL) = (expires_at IS NULL)
	    AND (policy_id IS NULL) = (policy_text IS NULL)),
	CHECK ((failed_id IS NULL) = (failed_at IS NULL))
);

-- the prober's question: which cached policies run out soon?
CREATE INDEX mta_sts_policies_expires_idx ON mta_sts_policies (expires_at);
