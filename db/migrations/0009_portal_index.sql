-- 0009_portal_index.sql - the portal counts recent failed logins of an
-- account from the audit trail.
CREATE INDEX escrow_audit_user_action_idx ON escrow_audit (user_id, action, at);
