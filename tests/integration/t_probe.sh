#!/bin/sh
# t_probe - `sealgate probe` and the prober role against real receivers
# found by MX in the test DNS, checked against what the receivers really
# offered:
#   TLS receiver (test CA): starttls yes, the protocol and cipher its log
#     says it negotiated, certificate subject/issuer/SAN, PKIX valid, name
#     match; tls_capable true, verify_mode pkix; text and JSON
#   no STARTTLS: starttls no; tls_capable false
#   TLS 1.1 only (below the TLSv1.2 floor): starttls yes, tls no;
#     tls_capable false
#   self-signed certificate: tls_capable true, pkix_valid false,
#     verify_mode none
#   two MX, one without STARTTLS: the weakest decides (false)
#   no MX host answering: inconclusive, exit 1, stored verdict kept
#   the probe sends nothing but EHLO, STARTTLS, EHLO, QUIT (no MAIL)
#   prober role: a domain mail went to is probed at start; a never-seen
#     domain is probed at once after NOTIFY sealgate_probe; a receiver
#     that stops offering STARTTLS: re-probe -> event=tls_lost, a history
#     row true -> false (`probe --history`)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$SG_PORT_BASE
R=$((P + 3))
PR=$((P + 5))
FAKE=$SG_TOP/tests/integration/receivers/fakesmtp.py

# zones of this test
Z=$T/zones
mkdir -p "$Z"
zone() {	# NAME ADDR [more "MX pref host" lines on stdin]
	{
		echo "@ MX 10 mx.$1."
		echo "mx A $2"
		cat
	} >"$Z/$1.zone"
}
zone probe-tls.test 127.0.0.41 </dev/null
zone probe-plain.test 127.0.0.42 </dev/null
zone probe-old.test 127.0.0.43 </dev/null
zone probe-self.test 127.0.0.44 </dev/null
zone probe-lost.test 127.0.0.45 </dev/null
zone probe-new.test 127.0.0.46 </dev/null
zone probe-seen.test 127.0.0.41 </dev/null
zone probe-down.test 127.0.0.47 </dev/null
zone probe-multi.test 127.0.0.41 <<'EOF'
@ MX 20 mx2.probe-multi.test.
mx2 A 127.0.0.42
EOF
dns_start $((P + 1)) "$Z"

# a test CA; one leaf naming every mx.probe-*.test host
C=$T/certs
mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 30 -subj "/CN=sealgate probe test CA" -keyout "$C/ca.key" \
    -out "$C/ca.pem" 2>/dev/null || fail "CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=mx.probe-tls.test" \
    -keyout "$C/mx.key" -out "$C/mx.csr" 2>/dev/null || fail "csr"
printf 'subjectAltName=DNS:mx.probe-tls.test,DNS:mx.probe-lost.test,DNS:mx.probe-new.test,DNS:mx.probe-old.test,DNS:mx.probe-multi.test,DNS:mx.probe-seen.test\n' >"$C/ext"
openssl x509 -req -in "$C/mx.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
    -CAcreateserial -days 30 -extfile "$C/ext" -out "$C/mx.pem" \
    2>/dev/null || fail "leaf"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 30 -subj "/CN=mx.probe-self.test" \
    -addext "subjectAltName=DNS:mx.probe-self.test" \
    -keyout "$C/self.key" -out "$C/self.pem" 2>/dev/null || fail "self"

recv() {	# NAME ADDR [fakesmtp options]
	_n=$1
	_a=$2
	shift 2
	rm -f "$T/$_n.ready"
	python3 "$FAKE" --addr "$_a" --port $R --log "$T/$_n.log" \
	    --ready "$T/$_n.ready" "$@" >>"$T/$_n.err" 2>&1 &
	_pid=$!
	bg_track $_pid
	eval "RECV_$_n=$_pid"
	_i=0
	while [ ! -f "$T/$_n.ready" ]; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || { cat "$T/$_n.err"; fail "receiver $_n"; }
		sleep 0.1
	done
}
recv_stop() {
	eval "_pid=\$RECV_$1"
	kill "$_pid" 2>/dev/null || true
	wait "$_pid" 2>/dev/null || true
}
recv tls 127.0.0.41 --cert "$C/mx.pem" --key "$C/mx.key"
recv plain 127.0.0.42 --no-starttls
recv old 127.0.0.43 --cert "$C/mx.pem" --key "$C/mx.key" --tls-max 1.1
recv self 127.0.0.44 --cert "$C/self.pem" --key "$C/self.key"
recv lost 127.0.0.45 --cert "$C/mx.pem" --key "$C/mx.key"
recv new 127.0.0.46 --cert "$C/mx.pem" --key "$C/mx.key"

common() {
	cat <<CONF
dns_forwarders = $SG_DNS
dns_allow_zones = test
delivery_port = $R
delivery_ca_file = $C/ca.pem
probe_timeout = 5s
CONF
}
common | gw_config gw $P
gw_start gw $P

# field FILE EXPR - a value from a JSON document (python expression on j)
field() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"
}
# tlsev NAME - "version cipher" of the receiver's last TLS session
tlsev() {
	sed -n 's/.*EVENT tls version=\([^ ]*\) cipher=\([^ ]*\).*/\1 \2/p' "$T/$1.log" | tail -1
}

# --- 1. a TLS receiver, text and JSON -----------------------------------
out=$(sg gw probe probe-tls.test) || fail "probe probe-tls.test failed: $out"
printf '%s\n' "$out" >"$T/tls.txt"
rv=$(tlsev tls)
[ -n "$rv" ] || fail "the TLS receiver saw no TLS session"
assert_contains "$out" "tls_capable: yes" "text: tls_capable yes"
assert_contains "$out" "verify_mode: pkix" "text: verify_mode pkix"
assert_contains "$out" "mx: mx.probe-tls.test pref=10" "text: the MX host"
assert_contains "$out" "  starttls: yes" "text: STARTTLS offered"
assert_contains "$out" "  protocol: ${rv% *}" "text: protocol = the receiver's"
assert_contains "$out" "  cipher: ${rv#* }" "text: cipher = the receiver's"
assert_contains "$out" "  cert_subject: CN=mx.probe-tls.test" "text: certificate subject"
assert_contains "$out" "  pkix_valid: yes" "text: PKIX valid against the test CA"
assert_contains "$out" "stored: yes" "text: stored"

sg gw probe probe-tls.test --json >"$T/tls.json" || fail "probe --json"
python3 -m json.tool "$T/tls.json" >/dev/null || fail "probe --json is not JSON"
rv=$(tlsev tls)
assert_eq "$(field "$T/tls.json" "j['tls_capable']")" true "json: tls_capable"
assert_eq "$(field "$T/tls.json" "j['verify_mode']")" pkix "json: verify_mode"
assert_eq "$(field "$T/tls.json" "j['mx_count']")" 1 "json: mx_count"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['name']")" mx.probe-tls.test "json: mx name"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['address']")" 127.0.0.41 "json: address probed"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['starttls']")" true "json: starttls"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['protocol'] + ' ' + j['mx'][0]['cipher']")" "$rv" "json: protocol and cipher = the receiver's log"
assert_eq "$(field "$T/tls.json" "j['min_protocol']")" "${rv% *}" "json: min_protocol"
bits=$(field "$T/tls.json" "j['mx'][0]['bits']")
[ "$bits" -ge 128 ] || fail "json: bits $bits"
assert_eq "$(field "$T/tls.json" "j['min_cipher_bits']")" "$bits" "json: min_cipher_bits"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['cert']['subject']")" CN=mx.probe-tls.test "json: cert subject"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['cert']['issuer']")" "CN=sealgate probe test CA" "json: cert issuer"
assert_contains "$(field "$T/tls.json" "j['mx'][0]['cert']['sans']")" '"mx.probe-tls.test"' "json: cert SANs"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['cert']['key_bits']")" 2048 "json: key bits (RSA 2048)"
want_na=$(openssl x509 -in "$C/mx.pem" -noout -enddate | sed 's/notAfter=//')
want_na=$(date -u -d "$want_na" +%Y-%m-%dT%H:%M:%SZ)
assert_eq "$(field "$T/tls.json" "j['mx'][0]['cert']['not_after']")" "$want_na" "json: cert not_after"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['cert']['pkix_valid']")" true "json: pkix_valid"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['cert']['name_match']")" true "json: name_match"
assert_eq "$(field "$T/tls.json" "j['mta_sts']['checked']")" true "json: MTA-STS looked up"
assert_eq "$(field "$T/tls.json" "j['mta_sts']['mode']")" null "json: no MTA-STS policy"
assert_eq "$(field "$T/tls.json" "j['mx'][0]['dane']")" unchecked "json: DANE does not apply (unsigned zone)"
# stored as the domain's status
assert_eq "$(psql_sg -c "SELECT tls_capable, verify_mode, mx_count, min_protocol FROM domain_tls_status WHERE domain = 'probe-tls.test'")" \
    "t|pkix|1|${rv% *}" "stored status row"
assert_eq "$(psql_sg -c "SELECT facts->0->>'name' FROM domain_tls_status WHERE domain = 'probe-tls.test'")" \
    mx.probe-tls.test "stored facts per MX"
# the probe never sent MAIL, RCPT or DATA
if grep -qE "b'(MAIL|RCPT|DATA)" "$T/tls.log"; then
	fail "the probe sent a transaction: $(grep -E "MAIL|RCPT|DATA" "$T/tls.log")"
fi
grep -q "TLS b'QUIT" "$T/tls.log" || fail "the probe did not QUIT"
ok "probe: EHLO, STARTTLS, EHLO, QUIT only"

# --- 2. no STARTTLS --------------------------------------------------------
sg gw probe probe-plain.test --json >"$T/plain.json" || fail "probe plain"
assert_eq "$(field "$T/plain.json" "j['mx'][0]['starttls']")" false "plain: STARTTLS not offered"
assert_eq "$(field "$T/plain.json" "j['mx'][0]['tls']")" false "plain: no TLS"
assert_eq "$(field "$T/plain.json" "j['tls_capable']")" false "plain: tls_capable false"
assert_eq "$(field "$T/plain.json" "j['verify_mode']")" none "plain: verify_mode none"
grep -q "EHLO" "$T/plain.log" || fail "plain receiver never saw EHLO"
if grep -q "STARTTLS" "$T/plain.log"; then fail "STARTTLS sent although not offered"; fi

# --- 3. TLS 1.1 only: offered, but below the floor ------------------------
sg gw probe probe-old.test --json >"$T/old.json" || fail "probe old"
assert_eq "$(field "$T/old.json" "j['mx'][0]['starttls']")" true "TLS 1.1: STARTTLS offered"
assert_eq "$(field "$T/old.json" "j['mx'][0]['tls']")" false "TLS 1.1: no session at the TLSv1.2 floor"
assert_eq "$(field "$T/old.json" "j['tls_capable']")" false "TLS 1.1: tls_capable false"
grep -q "EVENT tls-fail" "$T/old.log" || fail "TLS 1.1 receiver saw no failed handshake"
[ "$(field "$T/old.json" "j['mx'][0]['error']")" != null ] || fail "TLS 1.1: no error recorded"
ok "TLS 1.1-only receiver: handshake refused, error recorded"

# --- 4. self-signed ---------------------------------------------------------
sg gw probe probe-self.test --json >"$T/self.json" || fail "probe self"
rv=$(tlsev self)
assert_eq "$(field "$T/self.json" "j['mx'][0]['protocol'] + ' ' + j['mx'][0]['cipher']")" "$rv" "self-signed: protocol and cipher"
assert_eq "$(field "$T/self.json" "j['tls_capable']")" true "self-signed: still tls_capable"
assert_eq "$(field "$T/self.json" "j['mx'][0]['cert']['pkix_valid']")" false "self-signed: not PKIX-valid"
assert_eq "$(field "$T/self.json" "j['mx'][0]['cert']['name_match']")" true "self-signed: the name matches"
assert_eq "$(field "$T/self.json" "j['verify_mode']")" none "self-signed: verify_mode none"

# --- 5. two MX hosts: the weakest decides ---------------------------------
sg gw probe probe-multi.test --json >"$T/multi.json" || fail "probe multi"
assert_eq "$(field "$T/multi.json" "[m['name'] for m in j['mx']]")" '["mx.probe-multi.test", "mx2.probe-multi.test"]' "multi: both MX in preference order"
assert_eq "$(field "$T/multi.json" "[m['starttls'] for m in j['mx']]")" '[true, false]' "multi: STARTTLS per host"
assert_eq "$(field "$T/multi.json" "j['tls_capable']")" false "multi: one MX without TLS: not capable"

# --- 6. nobody answers: inconclusive, exit 1 ------------------------------
if sg gw probe probe-down.test --json >"$T/down.json"; then
	fail "probe of a dead MX exited 0"
fi
assert_eq "$(field "$T/down.json" "j['conclusive']")" false "dead MX: inconclusive"
assert_eq "$(field "$T/down.json" "j['tls_capable']")" null "dead MX: tls_capable unknown"
assert_eq "$(psql_sg -c "SELECT coalesce(tls_capable::text, 'null'), error IS NOT NULL FROM domain_tls_status WHERE domain = 'probe-down.test'")" \
    "null|t" "dead MX: no verdict stored, the error is"

# help names the fields
assert_contains "$(sg gw probe --help)" "tls_capable" "probe --help documents the fields"

# --- 7. the prober role -------------------------------------------------------
# mail to probe-seen.test makes it a domain "seen"
swaks --server 127.0.0.1:$P --from a@example.org --to x@probe-seen.test \
    --h-Subject probe >/dev/null 2>&1 || fail "swaks"
{ common; echo "roles = prober"; echo "smtp_listen = 127.0.0.1:$PR"; } |
    gw_config pr $PR
"$SG_BIN" -c "$T/pr.conf" serve >>"$(gw_log pr)" 2>&1 &
GW_PID_pr=$!
GW_PIDS="$GW_PIDS $!"
wait_log pr 'event=prober_ready' 1 15 || fail "prober did not start"
wait_log pr 'event=probe domain=probe-seen.test .*tls_capable=yes' 1 20 ||
    fail "a domain mail went to was not probed: $(tail -5 "$(gw_log pr)")"
ok "prober: domain seen in recipients probed at start"

# a never-seen domain, probed at once on NOTIFY (what delivery sends)
psql_sg -c "SELECT pg_notify('sealgate_probe', 'probe-new.test')" >/dev/null
wait_log pr 'event=probe domain=probe-new.test .*tls_capable=yes verify_mode=pkix' 1 20 ||
    fail "NOTIFY did not get probe-new.test probed: $(tail -5 "$(gw_log pr)")"
ok "prober: a never-seen domain probed after NOTIFY sealgate_probe"

# probe-lost.test: TLS first ...
psql_sg -c "SELECT pg_notify('sealgate_probe', 'probe-lost.test')" >/dev/null
wait_log pr 'event=probe domain=probe-lost.test .*tls_capable=yes' 1 20 ||
    fail "probe-lost.test not probed"
# ... then its receiver stops offering STARTTLS; ask for a re-probe
recv_stop lost
recv lost 127.0.0.45 --no-starttls
psql_sg -c "UPDATE domain_tls_status SET next_probe_at = now() WHERE domain = 'probe-lost.test'" >/dev/null
psql_sg -c "SELECT pg_notify('sealgate_probe', 'probe-lost.test')" >/dev/null
wait_log pr 'event=tls_lost domain=probe-lost.test' 1 20 ||
    fail "no event=tls_lost: $(tail -5 "$(gw_log pr)")"
grep 'event=tls_lost domain=probe-lost.test' "$(gw_log pr)" | grep -q 'STARTTLS not offered' ||
    fail "tls_lost does not say why: $(grep tls_lost "$(gw_log pr)")"
ok "prober: event=tls_lost logged with the reason"
assert_eq "$(psql_sg -c "SELECT tls_capable FROM domain_tls_status WHERE domain = 'probe-lost.test'")" f "status now not tls_capable"
sg gw probe probe-lost.test --history --json >"$T/hist.json" || fail "probe --history"
assert_eq "$(field "$T/hist.json" "[(h['old_tls_capable'], h['new_tls_capable']) for h in j]")" \
    '[[null, true], [true, false]]' "history: first verdict, then true -> false"
assert_contains "$(sg gw probe probe-lost.test --history)" "tls_capable=yes->no" "history text"

# one key=value line per probe
wait_log pr 'event=probe domain=probe-lost.test .*duration_ms=[0-9]+' 2 5 || fail "probe log lines"
grep 'event=probe ' "$(gw_log pr)" | grep -vq 'domain=.* conclusive=.* tls_capable=.* verify_mode=.* mx=' &&
    fail "a probe log line lacks its fields"
ok "prober: one key=value line per probe"
