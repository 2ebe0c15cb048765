#!/bin/sh
# t_delivery_tls - the whole gateway delivering to real TLS and hostile
# receivers found by MX, asserted at the receiver:
#   may -> TLS receiver: arrives over TLS; the audit row names the TLS
#          version and cipher the receiver negotiated
#   may -> no STARTTLS: still delivered, in plaintext, audit says none
#   forced-TLS domain -> STARTTLS-stripping receiver: NOTHING but EHLO and
#          QUIT arrives, no MAIL, no message byte; deferred; the log warns
#   REQUIRETLS message -> verify level: certificate checked against the
#          test CA (verified=ca), REQUIRETLS passed on
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$SG_PORT_BASE
R=$((P + 3))
dns_start $((P + 1))

# a test CA and a leaf for mx.tls.test
C=$T/certs
test_ca "$C"
test_leaf "$C" mx.tls.test DNS:mx.tls.test
cp "$C/mx.tls.test.pem" "$C/mx.pem"
cp "$C/mx.tls.test.key" "$C/mx.key"

fake_recv tlsrcv 127.0.0.22 $R --cert "$C/mx.pem" --key "$C/mx.key" --requiretls
fake_recv plainrcv 127.0.0.21 $R --no-starttls
fake_recv strip 127.0.0.25 $R --no-starttls

gw_config gw $P <<CONF
roles = ingress delivery
dns_forwarders = $SG_DNS
dns_allow_zones = test
delivery_port = $R
delivery_ca_file = $C/ca.pem
forced_tls_domains = nomx.test
delivery_retry_min = 30s
CONF
gw_start gw $P

send() {
	swaks --server 127.0.0.1:$P --from a@example.org --to "$1" \
	    --h-Subject "marker-$1" 2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p'
}
wait_state() {	# id state
	_i=0
	while [ "$(psql_sg -c "SELECT state FROM recipients WHERE message_id = '$1'")" != "$2" ]; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || fail "$1 not $2: $(sg gw log --message "$1")"
		sleep 0.1
	done
}
attempt() {	# id field
	sg gw log --message "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)[-1]['$2'])"
}

# 1. may -> TLS receiver
id=$(send x@tls.test)
wait_state "$id" delivered
grep -q "TLS b'MAIL FROM:<a@example.org>" "$T/tlsrcv.log" || fail "MAIL did not come inside TLS"
if grep -q "PLAIN b'MAIL" "$T/tlsrcv.log"; then fail "MAIL arrived in plaintext"; fi
rv=$(sed -n 's/.*EVENT tls version=\([^ ]*\) cipher=\([^ ]*\).*/\1 \2/p' "$T/tlsrcv.log" | head -1)
assert_eq "$(attempt "$id" tls_protocol) $(attempt "$id" tls_cipher)" "$rv" "audit row = the TLS the receiver negotiated"
assert_eq "$(attempt "$id" mx_host)" mx.tls.test "audit names the MX host"
assert_eq "$(attempt "$id" tls_verified)" none "may level: certificate not checked"

# 2. may -> no STARTTLS: opportunistic, still delivered
id=$(send y@plain.test)
wait_state "$id" delivered
grep -q "PLAIN b'MAIL FROM:<a@example.org>" "$T/plainrcv.log" || fail "plaintext receiver did not get the message"
assert_eq "$(attempt "$id" tls_protocol)" None "audit: the hop was plaintext"
ls "$T/plainrcv.mail"/*.eml >/dev/null 2>&1 || fail "no message stored"
ok "may without STARTTLS: delivered in plaintext"

# 3. forced TLS, STARTTLS stripped: nothing sent, deferred
id=$(send z@nomx.test)
wait_state "$id" deferred
grep -q "PLAIN b'EHLO" "$T/strip.log" || fail "the gateway never connected"
if grep -qE "b'(MAIL|RCPT|DATA)|marker-z" "$T/strip.log"; then
	fail "something beyond EHLO reached the STARTTLS-stripping server: $(cat "$T/strip.log")"
fi
ok "forced TLS: nothing but EHLO/QUIT reached the stripping server"
[ -z "$(ls "$T/strip.mail")" ] || fail "a message was stored at the stripping server"
assert_contains "$(attempt "$id" reply)" "4.7.5 TLS required" "audit: deferred for missing TLS"
grep -q "event=tls_failed.*possible downgrade" "$SG_TMP/$SG_TEST.gw.log" || fail "no downgrade warning logged"
ok "possible downgrade logged"

# 4. REQUIRETLS: verify level, certificate checked, REQUIRETLS passed on
cat >"$T/rt.smtp" <<'SMTP'
< 220
> EHLO client.test
< 250
> STARTTLS
< 220
starttls
> EHLO client.test
< 250
> MAIL FROM:<a@example.org> REQUIRETLS
< 250
> RCPT TO:<w@tls.test>
< 250
> DATA
< 354
> Subject: requiretls
>
> body
> .
< 250 2.0.0
> QUIT
< 221
SMTP
id=$(script $P "$T/rt.smtp" | sed -n 's/^queued //p')
[ -n "$id" ] || fail "REQUIRETLS message not queued"
wait_state "$id" delivered
assert_eq "$(attempt "$id" tls_level)" verify "REQUIRETLS raises the level to verify"
assert_eq "$(attempt "$id" tls_verified)" ca "certificate verified against the CA"
grep -q "TLS b'MAIL FROM:<a@example.org>.*REQUIRETLS" "$T/tlsrcv.log" || fail "REQUIRETLS not passed on: $(grep MAIL "$T/tlsrcv.log")"
ok "REQUIRETLS passed on to the next hop"
