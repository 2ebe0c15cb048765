-- 0010_recall.sql - the sender's recall link (docs/portal.md "Recall,
-- expiry, audit"): at deposit the envelope sender gets a receipt with
-- PORTAL_URL/recall?t=TOKEN; only the SHA-256 of the token is stored
-- (token_hash()). NULL: no receipt (null sender). The link works until
-- the message is purged.
ALTER TABLE escrow_messages ADD COLUMN recall_hash text;
CREATE UNIQUE INDEX escrow_messages_recall_idx ON escrow_messages (recall_hash)
    WHERE recall_hash IS NOT NULL;
