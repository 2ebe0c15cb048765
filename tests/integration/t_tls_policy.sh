#!/bin/sh
# t_tls_policy - the domain TLS intelligence through the whole gateway,
# asserted at the receivers:
#   sticky TLS: a domain probed TLS-capable whose server later stops
#     offering STARTTLS receives NOTHING in plaintext; the mail stays
#     deferred, a possible downgrade is logged, the domain is re-probed
#   MTA-STS enforce with a good certificate: delivered, verified=mta-sts
#   MTA-STS enforce whose MX presents a wrong-name certificate: receives
#     nothing (no MAIL), deferred
#   DANE: a matching TLSA record delivers (verified=dane); a record that
#     does not match the certificate: nothing received, deferred
#   MTA-STS enforce and an MX the policy does not name: not used for
#     delivery (the prober may still look at it)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$SG_PORT_BASE
R=$((P + 3))
HTTPS=$SG_TOP/tests/integration/receivers/https_policy.py

# --- a test CA and leaves
C=$T/certs
test_ca "$C"
leaf() {	# NAME SAN
	test_leaf "$C" "$1" "$2"
}
leaf mx.sticky.test DNS:mx.sticky.test
leaf mx.sts-good.test DNS:mx.sts-good.test
leaf wrongname DNS:elsewhere.test
leaf policies DNS:mta-sts.sts-good.test,DNS:mta-sts.sts-bad.test,DNS:mta-sts.sts-other.test

# --- DNS
Z=$T/zones
mkdir -p "$Z"
cat >"$Z/sticky.test.zone" <<'ZONE'
@		MX	10 mx.sticky.test.
mx		A	127.0.84.1
ZONE
for d in good bad other; do
	n=2
	[ $d = bad ] && n=3
	[ $d = other ] && n=4
	cat >"$Z/sts-$d.test.zone" <<ZONE
@		MX	10 mx.sts-$d.test.
mx		A	127.0.84.$n
_mta-sts	TXT	"v=STSv1; id=pol1;"
mta-sts		A	127.0.85.$n
ZONE
done
# DANE: signed zones; TLSA at _PORT._tcp (the port delivery connects to)
leaf mx.dane-ok.test DNS:mx.dane-ok.test
spki() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER |
	    openssl dgst -sha256 | sed 's/.*= //'
}
good=$(spki "$C/mx.dane-ok.test.pem")
other=$(spki "$C/wrongname.pem")
for d in ok bad; do
	n=5
	h=$good
	[ $d = bad ] && { n=6; h=$other; }
	cat >"$Z/dane-$d.test.zone" <<ZONE
; dns-test-server: sign
@		MX	10 mx.dane-$d.test.
mx		A	127.0.84.$n
_$R._tcp.mx	TLSA	3 1 1 $h
ZONE
done
dns_start $((P + 1)) "$Z"

# --- MTA-STS policy servers (port 443, as RFC 8461 says)
site() {	# DIR MXPATTERN
	mkdir -p "$1"
	cp "$C/policies.pem" "$1/cert.pem"
	cp "$C/policies.key" "$1/key.pem"
	: >"$1/response"
	printf 'version: STSv1\nmode: enforce\nmx: %s\nmax_age: 86400\n' "$2" \
	    >"$1/policy.txt"
}
site "$T/s-good" mx.sts-good.test
site "$T/s-bad" mx.sts-bad.test
site "$T/s-other" mx.somewhere-else.test
python3 "$HTTPS" --ready "$T/https.ready" \
    --site "127.0.85.2:443:$T/s-good" --site "127.0.85.3:443:$T/s-bad" \
    --site "127.0.85.4:443:$T/s-other" >"$T/https.err" 2>&1 &
bg_track $!
i=0
while [ ! -f "$T/https.ready" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/https.err" >&2; fail "https_policy.py"; }
	sleep 0.1
done

gw_config gw $P <<CONF
roles = ingress delivery prober
dns_forwarders = $SG_DNS
dns_trust_anchor_file = $SG_DNS_TA
dns_allow_zones = test
delivery_port = $R
delivery_ca_file = $C/ca.pem
delivery_retry_min = 60s
CONF
gw_start gw $P

send() {
	swaks --server 127.0.0.1:$P --from a@example.org --to "$1" \
	    --h-Subject "marker-$1" 2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p'
}
wait_attempt() {	# id -> its first attempt's outcome
	_i=0
	while [ -z "$(psql_sg -c "SELECT outcome FROM delivery_attempts WHERE message_id = '$1' LIMIT 1")" ]; do
		_i=$((_i + 1))
		[ $_i -lt 200 ] || fail "no attempt for $1"
		sleep 0.1
	done
	psql_sg -c "SELECT outcome FROM delivery_attempts WHERE message_id = '$1' ORDER BY id DESC LIMIT 1"
}
attempt() {	# id field
	psql_sg -c "SELECT $2 FROM delivery_attempts WHERE message_id = '$1' ORDER BY id DESC LIMIT 1"
}

# --- sticky TLS
fake_recv sticky1 127.0.84.1 $R --cert "$C/mx.sticky.test.pem" --key "$C/mx.sticky.test.key"
out=$(sg gw probe sticky.test --json) || fail "probe failed: $out"
assert_eq "$(echo "$out" | python3 -c "import json,sys; print(json.load(sys.stdin)['tls_capable'])")" True "probe: sticky.test is TLS-capable"
kill "$RECV_PID"; wait "$RECV_PID" 2>/dev/null || true
fake_recv sticky2 127.0.84.1 $R --no-starttls
id=$(send x@sticky.test)
assert_eq "$(wait_attempt "$id")" deferred "STARTTLS gone from a TLS-capable domain: deferred"
if grep -qE "b'(MAIL|RCPT|DATA)|marker-" "$T/sticky2.log"; then
	fail "the stripping server got more than EHLO: $(cat "$T/sticky2.log")"
fi
ok "nothing but EHLO/QUIT reached the stripping server (never plaintext)"
grep -q "event=possible_downgrade" "$SG_TMP/$SG_TEST.gw.log" || fail "no possible_downgrade event"
ok "possible downgrade logged"
i=0
until grep -q "event=tls_lost.*sticky.test" "$SG_TMP/$SG_TEST.gw.log"; do
	i=$((i + 1)); [ $i -lt 150 ] || fail "the domain was not re-probed (no tls_lost)"
	sleep 0.1
done
ok "re-probed at once: event=tls_lost"

# --- MTA-STS enforce, good certificate
fake_recv good 127.0.84.2 $R --cert "$C/mx.sts-good.test.pem" --key "$C/mx.sts-good.test.key"
id=$(send y@sts-good.test)
assert_eq "$(wait_attempt "$id")" delivered "MTA-STS enforce, valid certificate: delivered"
assert_eq "$(attempt "$id" tls_verified)" mta-sts "verified against the policy (mta-sts)"
assert_eq "$(attempt "$id" tls_level)" verify "enforce means the verify level"
grep -q "GET /.well-known/mta-sts.txt host=mta-sts.sts-good.test" "$T/s-good/requests.log" ||
    fail "the policy was not fetched"
ok "policy fetched from mta-sts.sts-good.test"

# --- MTA-STS enforce, wrong-name certificate: nothing delivered
fake_recv bad 127.0.84.3 $R --cert "$C/wrongname.pem" --key "$C/wrongname.key"
id=$(send z@sts-bad.test)
assert_eq "$(wait_attempt "$id")" deferred "MTA-STS enforce, wrong-name certificate: deferred"
if grep -qE "b'(MAIL|RCPT|DATA)|marker-" "$T/bad.log"; then
	fail "the wrong-name server got the message: $(cat "$T/bad.log")"
fi
ok "the wrong-name server received nothing"
assert_eq "$(attempt "$id" tls_verified)" failed "audit: verification failed"

# --- MTA-STS enforce, the MX is not in the policy: never used
fake_recv other 127.0.84.4 $R --cert "$C/mx.sts-good.test.pem" --key "$C/mx.sts-good.test.key"
id=$(send w@sts-other.test)
assert_eq "$(wait_attempt "$id")" deferred "MX outside the policy: deferred"
assert_contains "$(attempt "$id" reply)" "not in the MTA-STS policy" "audit says why"
# (the prober may look at it: EHLO and STARTTLS only)
if grep -qE "b'(MAIL|RCPT|DATA)|marker-" "$T/other.log"; then
	fail "a host outside the policy got the message: $(cat "$T/other.log")"
fi
ok "the host outside the policy received nothing"

# --- DANE (RFC 7672) through the gateway: the TLSA record decides
fake_recv daneok 127.0.84.5 $R --cert "$C/mx.dane-ok.test.pem" --key "$C/mx.dane-ok.test.key"
id=$(send v@dane-ok.test)
assert_eq "$(wait_attempt "$id")" delivered "DANE-EE record matches: delivered"
assert_eq "$(attempt "$id" tls_verified)" dane "verified by DANE"
fake_recv danebad 127.0.84.6 $R --cert "$C/mx.dane-ok.test.pem" --key "$C/mx.dane-ok.test.key"
id=$(send u@dane-bad.test)
assert_eq "$(wait_attempt "$id")" deferred "TLSA does not match the certificate: deferred"
if grep -qE "b'(MAIL|RCPT|DATA)|marker-" "$T/danebad.log"; then
	fail "the DANE-mismatch server got the message: $(cat "$T/danebad.log")"
fi
ok "the DANE-mismatch server received nothing"
assert_eq "$(attempt "$id" tls_verified)" failed "audit: DANE verification failed"
