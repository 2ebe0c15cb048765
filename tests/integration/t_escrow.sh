#!/bin/sh
# t_escrow - the escrow store (docs/portal.md "Deposit", "Recall, expiry,
# audit"), driven through tests/tools/escrow_deposit (what delivery calls
# for a recipient whose plan reached escrow) and `sealgate escrow`:
#   keygen writes a 0600 key and never overwrites; a 0644 key is refused
#     with a clear error naming the path, never the key
#   deposit: user, sealed message, enroll token (hash only), audit row and
#     the notification queued in one go; the plaintext is nowhere in the
#     database (psql COPY, pg_dump; as text and as bytea hex); the sealed
#     copy opens with the master key and aad = its id, byte for byte
#   the notification parses with Python's email: headers, text and HTML
#     parts, enroll link whose token hashes to the stored hash
#   the same (queue id, recipient id) again: nothing added
#   an enrolled user: /m/ID link, no token; escrow_hide_subject: no Subject
#   a notification is never escrowed itself (loop guard)
#   list, recall (once; never a read message), purge (expired only), audit
#   the sender's receipt (same deposit): queued to the envelope sender
#     from <>, a PORTAL_URL/recall?t= link whose token hashes to
#     escrow_messages.recall_hash (the token itself is stored nowhere);
#     hidden subjects stay hidden; the null sender gets none
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
PORTAL_PORT=$((P + 7))
BDIR=$(dirname "$SG_BIN")
DEP=$BDIR/tools/escrow_deposit
PGDUMP="pg_dump -h $SG_VAR/pg/sock -p $SG_PG_PORT -U sealgate"

# --- the driver: the Makefile rule, else a direct build
dep_fresh() {
	[ -x "$DEP" ] && [ ! "$SG_TOP/tests/tools/escrow_deposit.c" -nt "$DEP" ] &&
	    [ ! "$BDIR/libsg.a" -nt "$DEP" ]
}
if ! dep_fresh; then
	(cd "$SG_TOP" && make --no-print-directory BUILD="$(basename "$BDIR")" \
	    "$(basename "$BDIR")/tools/escrow_deposit") >"$T/build.log" 2>&1 &&
	    dep_fresh || { cat "$T/build.log" >&2; fail "cannot build $DEP"; }
fi

KEY=$T/escrow.key
rm -f "$KEY"
gw_config gw "$P" <<EOF
escrow = yes
escrow_master_key_file = $KEY
templates_dir = $SG_TOP/templates
portal_listen = 127.0.0.1:$PORTAL_PORT
escrow_org_name = Example Org
escrow_support = help@org.test
EOF
# same database, subjects hidden
gw_config hide "$P" <<EOF
escrow = yes
escrow_master_key_file = $KEY
templates_dir = $SG_TOP/templates
portal_url = https://portal.org.test/
escrow_hide_subject = yes
escrow_from = notices@org.test
EOF
sg gw migrate >/dev/null || fail "migrate"

# --- keygen
out=$(sg gw escrow keygen) || fail "escrow keygen"
assert_contains "$out" "written to $KEY" "keygen says where"
assert_eq "$(stat -c %a "$KEY")" 600 "key file mode 0600"
sum1=$(sha256sum "$KEY")
if out=$(sg gw escrow keygen 2>&1); then
	fail "keygen overwrote an existing key"
fi
assert_contains "$out" "$KEY" "second keygen refused, naming the path"
assert_eq "$(sha256sum "$KEY")" "$sum1" "existing key unchanged"
KEYHEX=$(cat "$KEY")

# --- a key readable by others is refused
cp "$KEY" "$T/open.key"
chmod 644 "$T/open.key"
sed "s|^escrow_master_key_file = .*|escrow_master_key_file = $T/open.key|" \
    "$T/gw.conf" >"$T/open.conf"
printf 'Subject: x\r\n\r\nx\r\n' >"$T/tiny.eml"
set +e
out=$("$DEP" -c "$T/open.conf" QOPEN 1 a@org.test b@x.test "$T/tiny.eml" 2>&1)
rc=$?
set -e
assert_eq "$rc" 3 "deposit with a 0644 master key refused"
assert_contains "$out" "$T/open.key: mode 0644" "the error names path and mode"
assert_contains "$out" "must be 0600" "the error says what is wanted"
assert_not_contains "$out" "$KEYHEX" "the error never shows the key"

# --- a message and its deposit
MARK=ESCROW-PLAINTEXT-MARKER-5f1c9e
MARKHEX=$(printf '%s' "$MARK" | od -An -tx1 | tr -d ' \n')
cat >"$T/msg.eml" <<EOF
Received: from client.org.test ([127.0.0.1])
	by mx.test; Tue, 1 Jan 2030 00:00:00 +0000
From: Alice Sender <alice@org.test>
To: Bob <Bob@Example.TEST>
Subject: Quarterly report
Message-ID: <orig-1@org.test>
Date: Tue, 1 Jan 2030 00:00:00 +0000

The figures: $MARK
EOF
sed -i 's/$/\r/' "$T/msg.eml"
SIZE=$(stat -c %s "$T/msg.eml")

out=$("$DEP" -c "$T/gw.conf" Q0000000000000A1 101 alice@org.test \
    Bob@Example.TEST "$T/msg.eml") || fail "deposit: $out"
assert_contains "$out" "0 escrowed, notification " "deposit stored"
NID1=$(printf '%s\n' "$out" | sed -n 's/.*notification \([0-9A-Z]*\).*/\1/p')
[ -n "$NID1" ] || fail "no notification id in: $out"

assert_eq "$(psql_sg -c "SELECT address || ' ' || (password_hash IS NULL)
    FROM escrow_users")" "Bob@example.test true" \
    "user created, domain lower case, not enrolled"
ID1=$(psql_sg -c "SELECT id FROM escrow_messages WHERE message_id =
    'Q0000000000000A1' AND recipient_id = 101")
[ ${#ID1} = 43 ] || fail "escrow id '$ID1' is not a 43-character token"
ok "escrow_messages row, id a token"
assert_eq "$(psql_sg -c "SELECT sender || ' ' || size || ' ' ||
    length(sealed) || ' ' || length(master_id) FROM escrow_messages
    WHERE id = '$ID1'")" "alice@org.test $SIZE $((SIZE + 100)) 16" \
    "sender, size, sealed length (size + 100), master id"
assert_eq "$(psql_sg -c "SELECT expires_at BETWEEN now() + interval '30 days'
    - interval '5 minutes' AND now() + interval '30 days' FROM
    escrow_messages WHERE id = '$ID1'")" t "expires in escrow_retention (30d)"
assert_eq "$(psql_sg -c "SELECT kind || ' ' || escrow_id || ' ' ||
    (used_at IS NULL) || ' ' || (expires_at BETWEEN now() + interval
    '14 days' - interval '5 minutes' AND now() + interval '14 days') ||
    ' ' || length(hash) FROM escrow_tokens")" "enroll $ID1 true true 64" \
    "one enroll token for the message, expiring in escrow_link_ttl"
assert_eq "$(psql_sg -c "SELECT action FROM escrow_audit WHERE escrow_id =
    '$ID1'")" deposit "audit row deposit"
assert_eq "$(psql_sg -c "SELECT mail_from || ' ' || r.rcpt || ' ' ||
    r.state || ' ' || m.tls_required FROM messages m JOIN recipients r
    ON r.message_id = m.id WHERE m.id = '$NID1'")" \
    "alice@org.test Bob@Example.TEST queued false" \
    "notification queued to the recipient, envelope from the sender"

# the sealed copy opens with the master key and aad = id, byte for byte
"$DEP" -c "$T/gw.conf" --unseal "$ID1" >"$T/unsealed.eml" ||
    fail "unseal $ID1"
cmp -s "$T/unsealed.eml" "$T/msg.eml" || fail "unsealed copy differs"
ok "unseal(master, sealed, aad = id) gives the message back"

# the plaintext is nowhere in the database
psql_sg -c "COPY escrow_messages TO STDOUT" >"$T/copy.txt"
$PGDUMP "$SG_DB" >"$T/dump.sql" 2>"$T/dump.err" || {
	cat "$T/dump.err" >&2
	fail "pg_dump"
}
for f in copy.txt dump.sql; do
	if grep -q -e "$MARK" -e "$MARKHEX" "$T/$f"; then
		fail "$f holds the message plaintext"
	fi
done
grep -q -- "$ID1" "$T/dump.sql" || fail "dump.sql does not even hold the row"
ok "plaintext (text or hex) in neither COPY nor pg_dump"

# --- the notification, as a mail reader sees it
check_notice() {	# FILE KIND(enroll|message) SUBJECT BASE TO FROM ORG
	python3 - "$@" <<'EOF_PY'
import email, email.policy, re, sys
path, kind, want_subject, base, want_to, want_from, org = sys.argv[1:8]
raw = open(path, "rb").read()
assert all(b < 0x80 for b in raw), "8-bit bytes in the notification"
assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
m = email.message_from_bytes(raw, policy=email.policy.default)
errs = []
def need(cond, what):
    if not cond:
        errs.append(what)
need(m["Subject"] == want_subject, "Subject %r" % m["Subject"])
need(m["To"].addresses[0].addr_spec == want_to, "To %r" % m["To"])
need(m["From"].addresses[0].addr_spec == want_from, "From %r" % m["From"])
need(m["From"].addresses[0].display_name == org, "From %r" % m["From"])
need(m["Auto-Submitted"] == "auto-generated", "Auto-Submitted")
need(m["MIME-Version"] == "1.0", "MIME-Version")
need(m["Date"] is not None and m["Date"].datetime is not None, "Date")
need(re.fullmatch(r"<[0-9A-Z]{16}\.escrow@mx\.test>", m["Message-ID"] or ""),
     "Message-ID %r" % m["Message-ID"])
need(m.get_content_type() == "multipart/alternative", m.get_content_type())
parts = [p for p in m.iter_parts()]
need([p.get_content_type() for p in parts] == ["text/plain", "text/html"],
     "parts %r" % [p.get_content_type() for p in parts])
text = parts[0].get_content()
html = parts[1].get_content()
if kind == "enroll":
    pat = re.escape(base) + r"/enroll\?t=([A-Za-z0-9_-]{43})"
else:
    pat = re.escape(base) + r"/m/([A-Za-z0-9_-]{43})"
t = re.search(pat + r"\r?\n", text)
h = re.search(r'href="' + pat + r'"', html)
need(t is not None, "link in text part")
need(h is not None, "link in HTML part")
need("/enroll" not in text + html if kind != "enroll" else True,
     "enrolled user got an enroll link")
need(org in text and org in html, "org name in both parts")
if errs:
    sys.exit("notification: " + "; ".join(errs) + "\n" + raw.decode())
print(t.group(1))
EOF_PY
}
sg gw queue show "$NID1" --raw >"$T/n1.eml" || fail "queue show $NID1 --raw"
BASE="https://mx.test:$PORTAL_PORT"
TOKEN=$(check_notice "$T/n1.eml" enroll \
    "Secure message from Alice Sender: Quarterly report" "$BASE" \
    Bob@Example.TEST secure-mail@mx.test "Example Org") ||
    fail "notification 1"
ok "notification parses: headers, text + HTML, enroll link in both"
assert_eq "$(psql_sg -c "SELECT hash FROM escrow_tokens")" \
    "$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)" \
    "the link's token hashes to the stored hash"
if grep -q -- "$TOKEN" "$T/dump.sql" ||
    psql_sg -c "COPY escrow_tokens TO STDOUT" | grep -q -- "$TOKEN"; then
	fail "the token itself is stored"
fi
ok "only the token's hash is stored"
grep -q "$MARK" "$T/n1.eml" && fail "notification holds the message body"
ok "the notification does not hold the message"
grep -q "^X-Sealgate-Escrow: notification" "$T/n1.eml" ||
    fail "notification not marked"

# --- the sender's receipt, queued in the same deposit
check_receipt() {	# FILE SUBJECT-OR-"" BASE TO RCPT FROM ORG; prints the token
	python3 - "$@" <<'EOF_PY'
import email, email.policy, re, sys
path, want_subject, base, want_to, rcpt, want_from, org = sys.argv[1:8]
raw = open(path, "rb").read()
assert all(b < 0x80 for b in raw), "8-bit bytes in the receipt"
m = email.message_from_bytes(raw, policy=email.policy.default)
errs = []
def need(cond, what):
    if not cond:
        errs.append(what)
need(m["To"].addresses[0].addr_spec == want_to, "To %r" % m["To"])
need(m["From"].addresses[0].addr_spec == want_from, "From %r" % m["From"])
need(m["From"].addresses[0].display_name == org, "From %r" % m["From"])
need(m["Auto-Submitted"] == "auto-generated", "Auto-Submitted")
need(m["X-Sealgate-Escrow"] == "notification", "not marked")
need(m.get_content_type() == "multipart/alternative", m.get_content_type())
text = m.get_body(("plain",)).get_content()
html = m.get_body(("html",)).get_content()
if want_subject:
    need(want_subject in m["Subject"] and want_subject in text,
         "subject %r" % m["Subject"])
need(rcpt in text and rcpt in html, "the recipient is named")
need("withdraw" in text, "says it can be withdrawn")
pat = re.escape(base) + r"/recall\?t=([A-Za-z0-9_-]{43})"
t = re.search(pat + r"\r?\n", text)
h = re.search(r'href="' + pat + r'"', html)
need(t is not None, "recall link in text part")
need(h is not None and t is not None and h.group(1) == t.group(1),
     "the same link in the HTML part")
if errs:
    sys.exit("receipt: " + "; ".join(errs) + "\n" + raw.decode())
print(t.group(1))
EOF_PY
}
RID1=$(psql_sg -c "SELECT m.id FROM messages m JOIN recipients r ON
    r.message_id = m.id WHERE r.rcpt = 'alice@org.test'")
[ -n "$RID1" ] && [ "$(echo "$RID1" | wc -l)" = 1 ] ||
    fail "one receipt queued to the sender, got '$RID1'"
assert_contains "$out" "receipt $RID1" "the deposit names the receipt"
assert_eq "$(psql_sg -c "SELECT '<' || mail_from || '> ' || m.escrow_notice ||
    ' ' || m.tls_required || ' ' || r.state FROM messages m JOIN recipients
    r ON r.message_id = m.id WHERE m.id = '$RID1'")" "<> true false queued" \
    "receipt: from <>, ordinary mail (escrow_notice), queued"
sg gw queue show "$RID1" --raw >"$T/r1.eml" || fail "queue show $RID1 --raw"
RTOKEN=$(check_receipt "$T/r1.eml" "Quarterly report" "$BASE" \
    alice@org.test Bob@Example.TEST secure-mail@mx.test "Example Org") ||
    fail "receipt 1"
ok "receipt parses: to the sender, subject, recipient, recall link in both parts"
assert_eq "$(psql_sg -c "SELECT recall_hash FROM escrow_messages WHERE id =
    '$ID1'")" "$(printf '%s' "$RTOKEN" | sha256sum | cut -d' ' -f1)" \
    "the recall link's token hashes to escrow_messages.recall_hash"
if grep -q -- "$RTOKEN" "$T/dump.sql" ||
    psql_sg -c "COPY escrow_messages TO STDOUT" | grep -q -- "$RTOKEN" ||
    psql_sg -c "COPY escrow_tokens TO STDOUT" | grep -q -- "$RTOKEN"; then
	fail "the recall token itself is stored"
fi
ok "only the recall token's hash is stored"
grep -q "$MARK" "$T/r1.eml" && fail "the receipt holds the message body"
ok "the receipt does not hold the message"
assert_contains "$(psql_sg -c "SELECT detail FROM escrow_audit WHERE
    escrow_id = '$ID1' AND action = 'deposit'")" "receipt=$RID1" \
    "the deposit's audit row names the receipt"

# --- the same deposit again (a retry after a crash): nothing new
counts() {
	psql_sg -c "SELECT (SELECT count(*) FROM escrow_messages) || ' ' ||
	    (SELECT count(*) FROM escrow_tokens) || ' ' || (SELECT count(*)
	    FROM escrow_audit) || ' ' || (SELECT count(*) FROM messages) ||
	    ' ' || (SELECT count(*) FROM escrow_users)"
}
before=$(counts)
out=$("$DEP" -c "$T/gw.conf" Q0000000000000A1 101 alice@org.test \
    Bob@Example.TEST "$T/msg.eml") || fail "second deposit: $out"
assert_contains "$out" "already escrowed" "second deposit is a no-op"
assert_eq "$(counts)" "$before" "no second copy, token or notification"

# --- an enrolled user: a plain link, no token
psql_sg -c "UPDATE escrow_users SET password_hash = 'x', enrolled_at = now()"
out=$("$DEP" -c "$T/gw.conf" Q0000000000000A2 102 alice@org.test \
    Bob@EXAMPLE.test "$T/msg.eml") || fail "deposit 2: $out"
NID2=$(printf '%s\n' "$out" | sed -n 's/.*notification \([0-9A-Z]*\).*/\1/p')
ID2=$(psql_sg -c "SELECT id FROM escrow_messages WHERE recipient_id = 102")
assert_eq "$(psql_sg -c "SELECT count(*) FROM escrow_users")" 1 \
    "same user for the same address with the domain in another case"
assert_eq "$(psql_sg -c "SELECT count(*) FROM escrow_tokens")" 1 \
    "no enroll token for an enrolled user"
sg gw queue show "$NID2" --raw >"$T/n2.eml" || fail "queue show $NID2"
LID=$(check_notice "$T/n2.eml" message \
    "Secure message from Alice Sender: Quarterly report" "$BASE" \
    Bob@EXAMPLE.test secure-mail@mx.test "Example Org") ||
    fail "notification 2"
assert_eq "$LID" "$ID2" "enrolled: the link is /m/ESCROW_ID"

# --- subjects hidden, escrow_from and portal_url set
out=$("$DEP" -c "$T/hide.conf" Q0000000000000A3 103 alice@org.test \
    carol@other.test "$T/msg.eml") || fail "deposit 3: $out"
NID3=$(printf '%s\n' "$out" | sed -n 's/.*notification \([0-9A-Z]*\).*/\1/p')
ID3=$(psql_sg -c "SELECT id FROM escrow_messages WHERE recipient_id = 103")
sg hide queue show "$NID3" --raw >"$T/n3.eml" || fail "queue show $NID3"
check_notice "$T/n3.eml" enroll "Secure message from Alice Sender" \
    https://portal.org.test carol@other.test notices@org.test mx.test \
    >/dev/null ||
    fail "notification 3"
grep -q Quarterly "$T/n3.eml" && fail "hidden subject shows in the mail"
ok "escrow_hide_subject: the Subject is nowhere in the notification"
RID3=$(printf '%s\n' "$out" | sed -n 's/.*receipt \([0-9A-Z]*\).*/\1/p')
[ -n "$RID3" ] || fail "no receipt id in: $out"
sg hide queue show "$RID3" --raw >"$T/r3.eml" || fail "queue show $RID3"
check_receipt "$T/r3.eml" "" https://portal.org.test alice@org.test \
    carol@other.test notices@org.test mx.test >/dev/null || fail "receipt 3"
grep -q Quarterly "$T/r3.eml" && fail "hidden subject shows in the receipt"
ok "escrow_hide_subject: the Subject is nowhere in the receipt"

# --- a notification is never escrowed (a rule escrowing its domain)
set +e
out=$("$DEP" -c "$T/gw.conf" Q0000000000000A4 104 alice@org.test \
    bob@example.test "$T/n1.eml")
rc=$?
set -e
assert_eq "$rc" 1 "escrowing a notification is a permanent refusal"
assert_contains "$out" "never escrowed" "and says why"

# --- list
out=$(sg gw escrow list) || fail "escrow list"
assert_contains "$out" "$ID1" "list shows the first message"
assert_contains "$out" "<alice@org.test> -> <Bob@example.test>" \
    "list shows sender and recipient"
sg gw escrow list --json >"$T/list.json" || fail "escrow list --json"
python3 - "$T/list.json" "$ID1" <<'EOF_PY' || fail "list --json"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 3, rows
r = [x for x in rows if x["id"] == sys.argv[2]][0]
assert r["recipient"] == "Bob@example.test" and r["sender"] == "alice@org.test"
assert r["state"] == "unread" and r["read"] is None and r["recalled"] is None
assert r["purged"] is None and r["created"].endswith("Z") and r["expires"]
EOF_PY
ok "list --json"

# --- recall: once, and never a read message
out=$(sg gw escrow recall "$ID1") || fail "recall $ID1: $out"
assert_contains "$out" "recalled" "recall an unread message"
assert_eq "$(psql_sg -c "SELECT length(sealed) || ' ' || (recalled_at IS NOT
    NULL) FROM escrow_messages WHERE id = '$ID1'")" "0 true" \
    "recall wipes the content and sets recalled_at"
assert_eq "$(psql_sg -c "SELECT count(*) FROM escrow_audit WHERE escrow_id =
    '$ID1' AND action = 'recall'")" 1 "audit row recall"
set +e
out=$(sg gw escrow recall "$ID1" 2>&1); rc=$?
set -e
assert_eq "$rc" 1 "a second recall fails"
assert_contains "$out" "recalled already" "and says why"
psql_sg -c "UPDATE escrow_messages SET first_read_at = now() WHERE id = '$ID2'"
set +e
out=$(sg gw escrow recall "$ID2" 2>&1); rc=$?
set -e
assert_eq "$rc" 1 "a read message cannot be recalled"
assert_contains "$out" "has been read" "and says why"
assert_eq "$(psql_sg -c "SELECT length(sealed) > 0 AND recalled_at IS NULL
    FROM escrow_messages WHERE id = '$ID2'")" t "the read message is intact"
set +e
out=$(sg gw escrow recall nosuchid 2>&1); rc=$?
set -e
assert_eq "$rc" 1 "recall of an unknown id fails"
assert_contains "$out" "no escrowed message" "and says so"

# --- purge: only what has expired
out=$(sg gw escrow purge) || fail "purge"
assert_contains "$out" "purged 0 expired messages" "nothing expired yet"
psql_sg -c "UPDATE escrow_messages SET expires_at = now() - interval '1
    minute' WHERE id = '$ID2'"
out=$(sg gw escrow purge) || fail "purge"
assert_contains "$out" "purged 1 expired message" "purge counts"
assert_eq "$(psql_sg -c "SELECT length(sealed) || ' ' || (purged_at IS NOT
    NULL) FROM escrow_messages WHERE id = '$ID2'")" "0 true" \
    "purge wipes the expired message and sets purged_at"
assert_eq "$(psql_sg -c "SELECT length(sealed) > 0 AND purged_at IS NULL
    FROM escrow_messages WHERE id = '$ID3'")" t "unexpired message kept"
assert_eq "$(psql_sg -c "SELECT count(*) FROM escrow_audit WHERE escrow_id =
    '$ID2' AND action = 'purge'")" 1 "audit row purge"
out=$(sg gw escrow list) || fail "escrow list"
assert_contains "$out" "$ID2 purged" "list shows the state"

# --- audit
out=$(sg gw escrow audit "$ID1") || fail "audit"
assert_contains "$out" "deposit" "audit shows the deposit"
assert_contains "$out" "recall" "audit shows the recall"
sg gw escrow audit "$ID1" --json >"$T/audit.json" || fail "audit --json"
python3 - "$T/audit.json" <<'EOF_PY' || fail "audit --json"
import json, sys
rows = json.load(open(sys.argv[1]))
assert [r["action"] for r in rows] == ["deposit", "recall"], rows
assert rows[0]["user"] == "Bob@example.test", rows
EOF_PY
ok "audit --json"
set +e
sg gw escrow audit nosuchid >/dev/null 2>&1; rc=$?
set -e
assert_eq "$rc" 1 "audit of an unknown id fails"

# --- the null sender: no receipt, no recall hash
before=$(psql_sg -c "SELECT count(*) FROM messages")
out=$("$DEP" -c "$T/gw.conf" Q0000000000000A5 105 "" bob@example.test \
    "$T/msg.eml") || fail "deposit from <>: $out"
assert_contains "$out" "no receipt" "deposit from <>: no receipt"
NID5=$(printf '%s\n' "$out" | sed -n 's/.*notification \([0-9A-Z]*\).*/\1/p')
assert_eq "$(psql_sg -c "SELECT count(*) FROM messages")" "$((before + 1))" \
    "deposit from <>: only the notification is queued"
assert_eq "$(psql_sg -c "SELECT r.rcpt FROM recipients r WHERE
    r.message_id = '$NID5'")" bob@example.test "and it goes to the recipient"
assert_eq "$(psql_sg -c "SELECT recall_hash IS NULL FROM escrow_messages
    WHERE recipient_id = 105")" t "deposit from <>: no recall_hash"
