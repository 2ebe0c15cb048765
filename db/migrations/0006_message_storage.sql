-- 0006_message_storage.sql - store message bytes without TOAST
-- compression: mail is mostly already compressed or encrypted (images,
-- PGP, S/MIME), and pglz on every queued message cost 12% of PostgreSQL's
-- CPU for 100 KiB messages in `make bench`. Out-of-line storage stays.
ALTER TABLE messages ALTER COLUMN data SET STORAGE EXTERNAL;
