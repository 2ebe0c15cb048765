-- 0005_claim_index.sql - the delivery claim's question, "what is due
-- now, oldest first?", answered from a partial index that holds only
-- pending rows (delivered and bounced ones never enter it), so a claim
-- costs the same whatever the history. Found by `make bench`.
CREATE INDEX recipients_due_idx ON recipients (next_attempt_at)
    WHERE state IN ('queued', 'deferred');
-- leased rows are few; the planner does not need this one on the hot path
DROP INDEX IF EXISTS recipients_lease_owner_idx;
