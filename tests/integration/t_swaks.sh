#!/bin/sh
# t_swaks - real clients put real messages into the queue, byte-exact.
#
#   swaks, plaintext and STARTTLS, --data @file (its own Message-ID, lines
#   starting with a dot so swaks dot-stuffs them): `queue show ID --raw`
#   is our Received: block (ESMTP / ESMTPS with "(using TLSv1.3 with
#   cipher ...") followed by exactly the message swaks sent, CRLF lines;
#   the same with --pipeline; a message without a Message-ID header (one
#   in the body does not count) gets "Message-ID: <ID@mx.test>" right
#   after Received:; `queue show --json` has the envelope, client address,
#   HELO and the TLS facts; `queue list --json` lists the id.
#   smtp-source: 200 messages from 4 parallel sessions, one per
#   connection, then 200 messages of 5 recipients over kept connections:
#   exactly 200 messages (and 200 / 1000 recipient rows) for each sender.
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
S=$SG_TOP/tests/integration/scripts
gw_config gw $P </dev/null
gw_start gw $P

# swaks_send FILE SENDER [swaks options] - send FILE as the message
# (swaks adds the end-of-data line itself, so the file's last newline is
# left out); prints swaks's transcript
swaks_send() {
	f=$1 from=$2
	shift 2
	head -c -1 "$f" >"$T/data.in"
	swaks --server 127.0.0.1:$P --helo client.test --from "$from" \
	    --to b@example.com --data @"$T/data.in" "$@" 2>&1
}

crlf() {	# FILE - FILE with CRLF line ends
	sed 's/$/\r/' "$1"
}

# --- plaintext
out=$(swaks_send "$S/swaks_msg.eml" swaks-plain@example.org)
assert_contains "$out" "250 2.0.0 Ok: queued as" "swaks plaintext: queued"
assert_not_contains "$out" " -> STARTTLS" "swaks plaintext: no STARTTLS sent"
id=$(queued_id "$out")
raw_split gw "$id"
hdr=$(tr -d '\r' <"$T/$id.hdr")
assert_eq "$(head -1 "$T/$id.hdr" | tr -d '\r')" \
    "Received: from client.test ([127.0.0.1])" "plain: Received: first line"
assert_contains "$hdr" "$(printf '\tby mx.test (sealgate) with ESMTP\n\tid %s\n\tfor <b@example.com>; ' "$id")" \
    "plain: Received: says ESMTP, no TLS, the id and the recipient"
assert_not_contains "$hdr" "using" "plain: Received: names no cipher"
crlf "$S/swaks_msg.eml" >"$T/want.plain"
cmp "$T/want.plain" "$T/$id.rest" ||
    fail "plain: stored message differs from the one sent (diff: cmp above)"
ok "plain: Received: then exactly the bytes sent (dot lines unstuffed)"
grep -q '^\.\.two dots' "$T/$id.rest" && grep -q "^\.$(printf '\r')\$" "$T/$id.rest" ||
    fail "plain: dot lines not stored as written"
ok "plain: '..two dots' and the lone '.' line survive the round trip"

sg gw queue show "$id" --json >"$T/show.json" || fail "queue show --json"
python3 - "$T/show.json" "$id" "$(wc -c <"$T/$id.raw")" <<'EOF' || fail "plain: queue show --json: $(cat "$T/show.json")"
import json, sys
m = json.load(open(sys.argv[1]))
want = {"id": sys.argv[2], "mail_from": "swaks-plain@example.org",
        "client_addr": "127.0.0.1", "client_helo": "client.test",
        "tls_protocol": None, "tls_cipher": None, "tls_bits": None,
        "auth_user": None, "requiretls": False, "size": int(sys.argv[3]),
        "recipient_count": 1}
bad = {k: (m.get(k), v) for k, v in want.items() if m.get(k) != v}
rc = [(r["rcpt"], r["state"]) for r in m["recipients"]]
if rc != [("b@example.com", "queued")]:
    bad["recipients"] = (rc, [("b@example.com", "queued")])
assert not bad, "got/want: %r" % bad
EOF
ok "plain: queue show --json: envelope, client, helo, no TLS, size"
sg gw queue list --json --limit 100000 >"$T/list.json" || fail "queue list --json"
python3 - "$T/list.json" "$id" <<'EOF' || fail "queue list --json lacks $id"
import json, sys
d = json.load(open(sys.argv[1]))
assert [m["id"] for m in d["messages"]].count(sys.argv[2]) == 1
assert d["count"] == len(d["messages"])
EOF
ok "queue list --json lists the message"

# --- STARTTLS
out=$(swaks_send "$S/swaks_msg.eml" swaks-tls@example.org -tls)
assert_contains "$out" "<~  250 2.0.0 Ok: queued as" "swaks -tls: queued inside TLS"
id=$(queued_id "$out")
raw_split gw "$id"
hdr=$(tr -d '\r' <"$T/$id.hdr")
show=$(sg gw queue show "$id" --json)
cipher=$(printf '%s' "$show" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tls_cipher"])')
bits=$(printf '%s' "$show" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tls_bits"])')
case "$cipher" in TLS_*) ;; *) fail "tls: queue show --json cipher '$cipher'" ;; esac
assert_contains "$hdr" "$(printf '\tby mx.test (sealgate) with ESMTPS\n\t(using TLSv1.3 with cipher %s (%s bits))\n\tid %s\n' "$cipher" "$bits" "$id")" \
    "tls: Received: says ESMTPS using TLSv1.3 with the stored cipher"
crlf "$S/swaks_msg.eml" >"$T/want.tls"
cmp "$T/want.tls" "$T/$id.rest" ||
    fail "tls: stored message differs from the one sent"
ok "tls: Received: then exactly the bytes sent"
printf '%s' "$show" | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["mail_from"] == "swaks-tls@example.org", m
assert m["tls_protocol"] == "TLSv1.3", m
assert m["tls_bits"] >= 128, m
assert m["client_addr"] == "127.0.0.1" and m["client_helo"] == "client.test", m
assert [r["rcpt"] for r in m["recipients"]] == ["b@example.com"], m
' || fail "tls: queue show --json: $show"
ok "tls: queue show --json: TLSv1.3, cipher, bits, envelope"
txt=$(sg gw queue show "$id")
assert_contains "$txt" "inbound TLS:  TLSv1.3 $cipher ($bits bits)" "tls: queue show (text) names the TLS"

# --- PIPELINING (RFC 2920): MAIL, RCPT and DATA in one write, inside TLS
out=$(swaks_send "$S/swaks_msg.eml" swaks-pipe@example.org -tls --pipeline)
assert_contains "$out" " ~> MAIL FROM:<swaks-pipe@example.org>
 ~> RCPT TO:<b@example.com>
 ~> DATA
<~  250 2.1.0" "swaks --pipeline: MAIL, RCPT, DATA sent together"
id=$(queued_id "$out")
[ -n "$id" ] || fail "swaks --pipeline: not queued: $out"
raw_split gw "$id"
cmp "$T/want.tls" "$T/$id.rest" || fail "pipelined: stored message differs from the one sent"
ok "pipelined: queued, exactly the bytes sent"

# --- no Message-ID header (one in the body does not count): the gateway
# adds one after Received:
out=$(swaks_send "$S/swaks_nomsgid.eml" swaks-nomsgid@example.org)
id=$(queued_id "$out")
[ -n "$id" ] || fail "no Message-ID: not queued: $out"
raw_split gw "$id"
{ printf 'Message-ID: <%s@mx.test>\r\n' "$id"; crlf "$S/swaks_nomsgid.eml"; } >"$T/want.nomsgid"
cmp "$T/want.nomsgid" "$T/$id.rest" ||
    fail "no Message-ID: want Message-ID: <$id@mx.test> then the message; got: $(head -c 300 "$T/$id.rest")"
ok "no Message-ID: 'Message-ID: <$id@mx.test>' added after Received:, rest byte-exact"

# --- smtp-source: 200 messages, 4 sessions, a connection per message
t0=$(date +%s)
smtp-source -c -m 200 -s 4 -M client.test -f src-conn@example.org \
    -t b@example.com 127.0.0.1:$P >"$T/src1.out" 2>&1 ||
    fail "smtp-source (connection per message): $(tail -3 "$T/src1.out")"
assert_eq "$(count_from src-conn@example.org)" 200 "smtp-source -s 4: exactly 200 messages queued"
assert_eq "$(psql_sg -c "SELECT count(*) FROM recipients r JOIN messages m ON m.id = r.message_id WHERE m.mail_from = 'src-conn@example.org'")" \
    200 "smtp-source -s 4: 200 recipient rows"
# --- 200 messages of 5 recipients, 8 sessions kept open (-d), 4 kB each
smtp-source -c -d -m 200 -s 8 -r 5 -l 4096 -M client.test \
    -f src-keep@example.org -t b@example.com 127.0.0.1:$P >"$T/src2.out" 2>&1 ||
    fail "smtp-source -d -r 5: $(tail -3 "$T/src2.out")"
assert_eq "$(count_from src-keep@example.org)" 200 "smtp-source -d -r 5: exactly 200 messages queued"
assert_eq "$(psql_sg -c "SELECT count(*) FROM recipients r JOIN messages m ON m.id = r.message_id WHERE m.mail_from = 'src-keep@example.org'")" \
    1000 "smtp-source -d -r 5: 1000 recipient rows"
assert_eq "$(psql_sg -c "SELECT count(*) FROM messages WHERE mail_from LIKE 'src-%@example.org' AND (received_at < to_timestamp($t0) - interval '1 second' OR client_helo <> 'client.test')")" \
    0 "smtp-source messages: all from this run, HELO client.test"
