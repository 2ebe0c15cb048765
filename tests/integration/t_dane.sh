#!/bin/sh
# t_dane - DANE for SMTP (RFC 7672) end to end: the TLSA lookup through
# the validating resolver against the local DNS server (the default zones
# plus tests/dns/dane/dane-*.test.zone, which only this test loads:
# dane-signed.test is DNSSEC-signed and gets its key-dependent TLSA
# records here, dane-bogus.test fails validation, dane-insecure.test is
# unsigned), the level that follows from
# it, and OpenSSL's DANE check of a real receiver (fakesmtp), all driven
# by tests/tools/smtpc_send --dane, which runs a delivery worker's steps.
#
#   DANE-EE(3) 1 1 matching the receiver's key: OK, verified=dane,
#   depth 0; also with an expired or wrong-name certificate of that key
#   (RFC 7672 3.1.1: DANE-EE ignores names and dates); the message
#   arrives inside TLS only. A DANE-EE record that does not match:
#   TLS_FAIL, verified=failed, not one byte of MAIL/RCPT/DATA.
#   DANE-TA(2) 0 1 of a test CA: OK, depth 1; the same without the CA in
#   the server's chain, or for a host name the certificate lacks:
#   TLS_FAIL, nothing sent. Only PKIX-TA(0)/PKIX-EE(1) records: unusable,
#   TLS still required (encrypt): OK over TLS unverified, TLS_FAIL from a
#   server without STARTTLS. A TLSA answer that is bogus (an alias into a
#   zone that fails validation) or fails (SERVFAIL): the host is not used,
#   no connection at all. Insecure TLSA records (an alias into an unsigned
#   zone), no TLSA records, an insecure MX RRset (also when it names a
#   secure host with TLSA records) and an unsigned zone: DANE_NONE, the
#   level given. A bogus MX RRset: no host at all.
#   Records given directly (--tlsa): the same check; only unusable ones:
#   TLS_FAIL before connecting. REQUIRETLS goes out over verified=dane.
#   The TLS floor applies at dane. Sessions resume at dane.
#   Certificate facts (smtpc_result.cert) against the receiver's actual
#   certificate: subject, issuer, SAN list, not_after, key, name match,
#   PKIX valid with the right CA and not with another one, at dane and at
#   encrypt, and on a resumed session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
DNSP=$((SG_PORT_BASE + 1))
RP=$((SG_PORT_BASE + 2))
FAKE=$SG_TOP/tests/integration/receivers/fakesmtp.py
BDIR=$(dirname "$SG_BIN")
SMTPC=$BDIR/tools/smtpc_send

# --- the driver: the Makefile rule if there is one, else a direct build
smtpc_fresh() {
	[ -x "$SMTPC" ] && [ ! "$SG_TOP/tests/tools/smtpc_send.c" -nt "$SMTPC" ] &&
	    [ ! "$BDIR/libsg.a" -nt "$SMTPC" ]
}
if ! smtpc_fresh; then
	(cd "$SG_TOP" && make --no-print-directory BUILD="$(basename "$BDIR")" \
	    "$(basename "$BDIR")/tools/smtpc_send") >"$T/build.log" 2>&1 &&
	    smtpc_fresh || { cat "$T/build.log" >&2; fail "cannot build $SMTPC"; }
fi

# --- certificates: a test CA and another one; leaves from the first
C=$T/certs
mkdir -p "$C/new"
: >"$C/index.txt"
echo 1000 >"$C/serial"
cat >"$C/ca.cnf" <<EOF
[ ca ]
default_ca = tca
[ tca ]
database = $C/index.txt
new_certs_dir = $C/new
serial = $C/serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
[ pol ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \$ENV::SAN
EOF
mkca() {	# NAME CN
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 30 -subj "/CN=$2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -keyout "$C/$1.key" -out "$C/$1.pem" 2>/dev/null || fail "CA $1"
}
mkca ca "sealgate DANE test CA"
mkca ca2 "another test CA"

# leaf NAME KEY CN SAN [openssl ca date options] - NAME.pem from the CA
# with the key KEY.key (made when missing); NAME.chain = leaf + CA
leaf() {
	_n=$1 _k=$2 _cn=$3 _san=$4
	shift 4
	[ -f "$C/$_k.key" ] || openssl genpkey -algorithm EC \
	    -pkeyopt ec_paramgen_curve:P-256 -out "$C/$_k.key" 2>/dev/null ||
	    fail "key $_k"
	openssl req -new -key "$C/$_k.key" -subj "/CN=$_cn" \
	    -out "$C/$_n.csr" 2>/dev/null || fail "request $_n"
	SAN=$_san openssl ca -batch -config "$C/ca.cnf" -extensions leaf \
	    -cert "$C/ca.pem" -keyfile "$C/ca.key" -in "$C/$_n.csr" \
	    -out "$C/$_n.pem" -notext "$@" >"$C/$_n.log" 2>&1 ||
	    { cat "$C/$_n.log" >&2; fail "certificate $_n"; }
	cat "$C/$_n.pem" "$C/ca.pem" >"$C/$_n.chain"
}
D=dane-signed.test
GOOD_SAN="DNS:mx-ee.$D,DNS:mx-ta.$D,DNS:mx-bad.$D,DNS:mx-pkix.$D,DNS:mx-none.$D"
leaf good mx mx-ee.$D "$GOOD_SAN" -days 30
leaf expired mx mx-ee.$D "DNS:mx-ee.$D" -startdate 20200101000000Z \
    -enddate 20200201000000Z
leaf wrongname mx other.test DNS:other.test -days 30
leaf other other mx-ee.$D "DNS:mx-ee.$D" -days 30

# the association data: SHA-256 of the receiver key's SPKI (3 1 1) and
# of the CA certificate (2 0 1)
spki256() {
	openssl pkey -in "$1" -pubout -outform DER | openssl dgst -sha256 -r |
	    cut -d' ' -f1
}
EE=$(spki256 "$C/mx.key")
TA=$(openssl x509 -in "$C/ca.pem" -outform DER | openssl dgst -sha256 -r |
    cut -d' ' -f1)
[ ${#EE} = 64 ] && [ ${#TA} = 64 ] || fail "TLSA data: '$EE' '$TA'"

# --- DNS: the default zones, the DANE zones, dane-signed.test with these
# records (a copy of it, given after the directory, replaces it)
mkdir -p "$T/zones"
cp "$SG_TOP/tests/dns/dane/$D.zone" "$T/zones/$D.zone"
cat >>"$T/zones/$D.zone" <<EOF
; added by t_dane.sh for this run's keys
_25._tcp.mx-ee		TLSA	3 1 1 $EE
_25._tcp.mx-ta		TLSA	2 0 1 $TA
_25._tcp.mx-taname	TLSA	2 0 1 $TA
_25._tcp.mx-pkix	TLSA	1 1 1 $EE
_25._tcp.mx-pkix	TLSA	0 0 1 $TA
EOF
dns_start "$DNSP" "$SG_TOP/tests/dns/dane" "$T/zones"
# an independent check of the chain of trust (BIND's delv)
if command -v delv >/dev/null 2>&1; then
	out=$(delv @127.0.0.1 -p "$DNSP" -a "$SG_DNS_DIR/trust-anchors.conf" \
	    +root=$D "_25._tcp.mx-ee.$D" TLSA 2>&1 || true)
	assert_contains "$out" "; fully validated" \
	    "delv: _25._tcp.mx-ee.$D TLSA validates"
	assert_contains "$out" "$(echo "$EE" | cut -c1-16 | tr a-f A-F)" \
	    "delv: the record carries this run's key"
fi

# --- the message
MSG=$T/msg.eml
printf 'From: a@sender.test\r\nTo: b@rcpt.test\r\nSubject: t_dane\r\n\r\nsecret-body-marker\r\n.leading dot\r\nlast line\r\n' >"$MSG"

# --- receivers (fakesmtp on 127.0.0.1:$RP, log $T/NAME.log)
# receivers: fakesmtp on 127.0.0.1:$RP (lib.sh fake_recv), log $T/NAME.log
recv_start() {	# NAME [fakesmtp options]
	_rn=$1
	shift
	fake_recv "$_rn" 127.0.0.1 "$RP" "$@"
}
recv_stop() {
	fake_recv_stop
}

# dane NAME HOST [smtpc_send options] - deliver to HOST (an MX host of
# ${DOMAIN:-dane-signed.test}) the way a worker does: MX and TLSA lookup,
# then the connection (level --level, default may, as DANE leaves it);
# output in $T/NAME.out, exit code in $RC
dane() {
	_name=$1 _host=$2
	shift 2
	RC=0
	"$SMTPC" --dane "${DOMAIN:-$D}" --dns "$SG_DNS" --ta "$SG_DNS_TA" \
	    --host "$_host" --port "$RP" --from a@sender.test \
	    --to b@rcpt.test --data "$MSG" --timeout 10 "$@" \
	    >"$T/$_name.out" 2>"$T/$_name.stderr" || RC=$?
	sanitizer_check "$_name"
}

# direct NAME LEVEL [smtpc_send options] - no DNS: to 127.0.0.1 as
# ${HOST:-mx-ee.dane-signed.test}
direct() {
	_name=$1 _level=$2
	shift 2
	RC=0
	"$SMTPC" --host "${HOST:-mx-ee.$D}" --addr 127.0.0.1 --port "$RP" \
	    --level "$_level" --from a@sender.test --to b@rcpt.test \
	    --data "$MSG" --timeout 10 "$@" >"$T/$_name.out" \
	    2>"$T/$_name.stderr" || RC=$?
	sanitizer_check "$_name"
}

sanitizer_check() {
	if grep -E -q 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$T/$1.stderr"; then
		cat "$T/$1.stderr" >&2
		fail "$1: sanitizer report from smtpc_send"
	fi
}

field() {	# NAME KEY [N] - the N-th (default first) value of KEY
	sed -n "s/^$2=//p" "$T/$1.out" | sed -n "${3:-1}p"
}

# expect NAME STATUS - smtpc_send's exit code and first status agree
expect() {
	_st=$(field "$1" status)
	[ "$_st" = "$2" ] || {
		cat "$T/$1.out" "$T/$1.stderr" >&2
		fail "$1: status $_st, want $2"
	}
	if [ "$2" = OK ]; then
		[ "$RC" = 0 ] || fail "$1: exit $RC, want 0"
	else
		[ "$RC" != 0 ] || fail "$1: exit 0 with status $2"
	fi
	ok "$1: $2 ($(field "$1" reply))"
}

# lookup NAME STATUS LEVEL - what the DANE lookup said and the level
# that followed ("-": the host is not used)
lookup() {
	assert_eq "$(field "$1" dane_status)" "$2" "$1: dane_status=$2"
	assert_eq "$(field "$1" dane_level)" "$3" "$1: level $3"
}

# nothing_sent NAME - the receiver read no MAIL, RCPT, DATA or message
# byte, in plaintext or in TLS, and stored no message
nothing_sent() {
	if grep -E '^C[0-9]+ (PLAIN|TLS) ' "$T/$1.log" |
	    grep -E -i 'MAIL FROM|RCPT TO|DATA|Subject:|secret-body'; then
		fail "$1: message data reached the receiver"
	fi
	[ -z "$(ls -A "$T/$1.mail")" ] || fail "$1: receiver stored a message"
	ok "$1: nothing of the message reached the receiver"
}

# no_connection NAME - the receiver never saw a connection
no_connection() {
	if grep -q 'EVENT connect' "$T/$1.log" 2>/dev/null; then
		fail "$1: the receiver was connected to"
	fi
	ok "$1: no connection to the receiver"
}

# in_tls NAME - only EHLO and STARTTLS in plaintext; the message arrived
# inside TLS, byte-exact
in_tls() {
	_bad=$(grep -E '^C[0-9]+ PLAIN ' "$T/$1.log" |
	    grep -v -E "^C[0-9]+ PLAIN b'(EHLO client\\.test|STARTTLS)\\\\r\\\\n'\$" ||
	    true)
	[ -z "$_bad" ] || fail "$1: in plaintext: $_bad"
	grep -q '^tls=1$' "$T/$1.mail/001.env" || fail "$1: not stored as TLS"
	cmp -s "$MSG" "$T/$1.mail/001.eml" || fail "$1: message changed"
	ok "$1: only EHLO and STARTTLS in plaintext; message byte-exact in TLS"
}

not_after() {	# CERT - its notAfter as unix time
	date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s
}

# --- DANE-EE(3): the receiver's own key
recv_start ee_ok --cert "$C/good.chain" --key "$C/mx.key"
dane ee_ok "mx-ee.$D" --ca "$C/ca.pem"
dane ee_ok_ca2 "mx-ee.$D" --ca "$C/ca2.pem"
recv_stop
expect ee_ok OK
lookup ee_ok usable dane
assert_eq "$(field ee_ok dane_mx_secure)/$(field ee_ok dane_addr_secure)" \
    1/1 "ee_ok: MX and address records secure"
assert_eq "$(field ee_ok dane_qname)" "_25._tcp.mx-ee.$D" "ee_ok: TLSA name"
assert_eq "$(field ee_ok verified)" dane "ee_ok: verified=dane"
assert_eq "$(field ee_ok dane_usage)/$(field ee_ok dane_depth)" 3/0 \
    "ee_ok: DANE-EE matched the leaf"
assert_eq "$(field ee_ok tls)" 1 "ee_ok: TLS"
in_tls ee_ok
# the certificate facts, against the certificate itself
assert_eq "$(field ee_ok cert)" 1 "facts: a certificate"
assert_eq "$(field ee_ok cert_subject)" "CN=mx-ee.$D" "facts: subject"
assert_eq "$(field ee_ok peer_cert_subject)" "CN=mx-ee.$D" \
    "facts: peer_cert_subject too"
assert_eq "$(field ee_ok cert_issuer)" "CN=sealgate DANE test CA" \
    "facts: issuer"
assert_eq "$(field ee_ok cert_names)" \
    "mx-ee.$D,mx-ta.$D,mx-bad.$D,mx-pkix.$D,mx-none.$D" "facts: SAN list"
assert_eq "$(field ee_ok cert_names_total)/$(field ee_ok cert_names_listed)" \
    5/5 "facts: all names listed"
assert_eq "$(field ee_ok cert_not_after)" "$(not_after "$C/good.pem")" \
    "facts: not_after"
assert_eq "$(field ee_ok cert_key_type)/$(field ee_ok cert_key_bits)" EC/256 \
    "facts: key"
assert_eq "$(field ee_ok cert_pkix_valid)" 1 "facts: PKIX valid with the CA"
assert_eq "$(field ee_ok cert_name_match)" 1 "facts: name matches"
[ "$(field ee_ok tls_bits)" -ge 128 ] || fail "ee_ok: tls_bits < 128"
expect ee_ok_ca2 OK
assert_eq "$(field ee_ok_ca2 verified)" dane \
    "DANE does not need the CA store"
assert_eq "$(field ee_ok_ca2 cert_pkix_valid)" 0 \
    "facts: not PKIX valid with another CA"
assert_contains "$(field ee_ok_ca2 cert_pkix_error)" \
    "self-signed certificate in certificate chain" \
    "facts: PKIX error named (the chain ends in an untrusted CA)"

# RFC 7672 3.1.1: DANE-EE checks neither dates nor names
for cert in expired wrongname; do
	n=ee_$cert
	recv_start $n --cert "$C/$cert.chain" --key "$C/mx.key"
	dane $n "mx-ee.$D" --ca "$C/ca.pem"
	recv_stop
	expect $n OK
	assert_eq "$(field $n verified)" dane "$n: verified=dane"
	in_tls $n
done
assert_eq "$(field ee_expired cert_pkix_valid)" 0 "expired: not PKIX valid"
assert_contains "$(field ee_expired cert_pkix_error)" "expired" \
    "expired: named"
[ "$(field ee_expired cert_not_after)" -lt "$(date +%s)" ] ||
    fail "expired: not_after not in the past"
assert_eq "$(field ee_wrongname cert_name_match)" 0 "wrong name: no match"
assert_eq "$(field ee_wrongname cert_names)" "other.test" "wrong name: SAN"

# another key: no record matches
recv_start ee_otherkey --cert "$C/other.chain" --key "$C/other.key"
dane ee_otherkey "mx-ee.$D" --ca "$C/ca.pem"
recv_stop
expect ee_otherkey TLS_FAIL
assert_eq "$(field ee_otherkey verified)" failed "ee_otherkey: verified=failed"
assert_contains "$(field ee_otherkey reply)" "DANE" "ee_otherkey: DANE named"
assert_eq "$(field ee_otherkey cert_subject)" "CN=mx-ee.$D" \
    "ee_otherkey: the refused certificate is still described"
assert_eq "$(field ee_otherkey cert_pkix_valid)" 1 \
    "ee_otherkey: PKIX valid, and still refused: DANE decides"
nothing_sent ee_otherkey

recv_start ee_bad --cert "$C/good.chain" --key "$C/mx.key"
dane ee_bad "mx-bad.$D" --ca "$C/ca.pem"
recv_stop
expect ee_bad TLS_FAIL
lookup ee_bad usable dane
assert_eq "$(field ee_bad verified)" failed "ee_bad: verified=failed"
assert_eq "$(field ee_bad data_sent)" 0 "ee_bad: data_sent=0"
nothing_sent ee_bad

# --- DANE-TA(2): the CA, sent by the server in its chain
recv_start ta_ok --cert "$C/good.chain" --key "$C/mx.key"
dane ta_ok "mx-ta.$D"
recv_stop
expect ta_ok OK
lookup ta_ok usable dane
assert_eq "$(field ta_ok verified)" dane "ta_ok: verified=dane"
assert_eq "$(field ta_ok dane_usage)/$(field ta_ok dane_depth)" 2/1 \
    "ta_ok: DANE-TA matched the CA above the leaf"
in_tls ta_ok

recv_start ta_nochain --cert "$C/good.pem" --key "$C/mx.key"
dane ta_nochain "mx-ta.$D"
recv_stop
expect ta_nochain TLS_FAIL
assert_eq "$(field ta_nochain verified)" failed "ta_nochain: verified=failed"
nothing_sent ta_nochain

recv_start ta_name --cert "$C/good.chain" --key "$C/mx.key"
dane ta_name "mx-taname.$D"
recv_stop
expect ta_name TLS_FAIL
assert_contains "$(field ta_name reply)" "mismatch" \
    "ta_name: DANE-TA checks the MX host name (RFC 7672 3.2.2)"
nothing_sent ta_name

# --- only PKIX-TA(0)/PKIX-EE(1): unusable for SMTP, TLS still required
recv_start pkix --cert "$C/good.chain" --key "$C/mx.key"
dane pkix "mx-pkix.$D"
recv_stop
expect pkix OK
lookup pkix unusable encrypt
assert_eq "$(field pkix dane_records)/$(field pkix dane_usable)" 2/0 \
    "pkix: two records, none usable"
assert_eq "$(field pkix verified)" none "pkix: TLS without authentication"
in_tls pkix

recv_start pkix_plain --no-starttls
dane pkix_plain "mx-pkix.$D"
recv_stop
expect pkix_plain TLS_FAIL
nothing_sent pkix_plain

# --- the host must not be used: bogus or failed TLSA lookups
for h in tbogus tfail; do
	n=host_$h
	recv_start $n --cert "$C/good.chain" --key "$C/mx.key"
	dane $n "mx-$h.$D"
	recv_stop
	[ "$RC" = 1 ] || fail "$n: exit $RC, want 1"
	assert_contains "$(cat "$T/$n.out")" "# dane: mx-$h.$D not used" \
	    "$n: not used"
	no_connection $n
done
lookup host_tbogus bogus -
assert_contains "$(field host_tbogus dane_why)" "DNSSEC bogus" \
    "tbogus: why names DNSSEC"
lookup host_tfail tempfail -

# --- no DANE: the level given stays
recv_start none --cert "$C/good.chain" --key "$C/mx.key"
dane none_secure "mx-none.$D"
dane none_tins "mx-tins.$D"
DOMAIN=dane-insecure.test dane none_zone mx.dane-insecure.test
DOMAIN=other.dane-insecure.test dane none_mx "mx-ee.$D"
recv_stop
for n in none_secure none_tins none_zone none_mx; do
	expect $n OK
	lookup $n none may
	assert_eq "$(field $n verified)" none "$n: verified=none"
done
assert_contains "$(field none_secure dane_why)" "(secure)" \
    "none_secure: a secure denial"
assert_contains "$(field none_tins dane_why)" "not DNSSEC-validated" \
    "none_tins: insecure records ignored"
assert_eq "$(field none_zone dane_mx_secure)/$(field none_zone dane_applies)" \
    0/0 "none_zone: unsigned zone, no TLSA lookup"
assert_eq "$(field none_mx dane_mx_secure)/$(field none_mx dane_addr_secure)/$(field none_mx dane_applies)" \
    0/1/0 "none_mx: insecure MX naming a secure host: no DANE"

# a bogus MX RRset: no MX host to use at all
recv_start mx_bogus --cert "$C/good.chain" --key "$C/mx.key"
DOMAIN=dane-bogus.test dane mx_bogus mx.dane-bogus.test
recv_stop
[ "$RC" = 1 ] || fail "mx_bogus: exit $RC, want 1"
assert_eq "$(field mx_bogus dane_mx_status)" 5 "mx_bogus: MX lookup bogus"
no_connection mx_bogus

# --- records given directly, and what is refused before connecting
recv_start direct_ok --cert "$C/good.chain" --key "$C/mx.key"
direct direct_ok dane --tlsa "1 1 1 $EE" --tlsa "3 1 1 $EE"
recv_stop
expect direct_ok OK
assert_eq "$(field direct_ok verified)" dane "direct: verified=dane"

recv_start direct_unusable --cert "$C/good.chain" --key "$C/mx.key"
direct direct_unusable dane --tlsa "1 1 1 $EE" --tlsa "0 0 1 $TA"
direct direct_none dane
recv_stop
expect direct_unusable TLS_FAIL
assert_contains "$(field direct_unusable reply)" "without usable TLSA" \
    "direct: only PKIX records: refused"
expect direct_none TLS_FAIL
assert_contains "$(field direct_none reply)" "without usable TLSA" \
    "direct: dane without records: refused"
no_connection direct_unusable

# --- REQUIRETLS rides on verified=dane (RFC 8689 4.2.1)
recv_start reqtls --cert "$C/good.chain" --key "$C/mx.key" --requiretls
dane reqtls "mx-ee.$D" --requiretls
recv_stop
expect reqtls OK
grep -q "MAIL FROM:<a@sender.test>.*REQUIRETLS" "$T/reqtls.log" ||
    fail "reqtls: REQUIRETLS not on MAIL"
ok "reqtls: REQUIRETLS sent over DANE"

# --- the TLS floor applies at dane
recv_start floor --cert "$C/good.chain" --key "$C/mx.key" --tls-min 1.1 \
    --tls-max 1.1
dane floor "mx-ee.$D" --ctx-min 1.1
recv_stop
expect floor TLS_FAIL
nothing_sent floor

# --- sessions: resumed at dane under the same records; facts on resume
recv_start resume --cert "$C/good.chain" --key "$C/mx.key"
dane resume "mx-ee.$D" --ca "$C/ca.pem" --connections 2
direct resume_enc encrypt --ca "$C/ca.pem" --connections 2
direct resume_enc2 encrypt --ca "$C/ca2.pem" --connections 2
recv_stop
expect resume OK
assert_eq "$(field resume session_reused 2)" 1 "dane: second session resumed"
assert_eq "$(field resume verified 2)" dane "dane: resumed, verified=dane"
assert_eq "$(field resume cert_subject 2)" "CN=mx-ee.$D" \
    "resumed: the certificate is still described"
assert_eq "$(field resume dane_depth 2)" -1 "dane, resumed: no match depth"
assert_eq "$(field resume cert_pkix_valid 2)" -1 \
    "dane, resumed: PKIX validity not known (the chain is not kept)"
expect resume_enc OK
assert_eq "$(field resume_enc verified)" none "encrypt: verified=none"
assert_eq "$(field resume_enc cert_pkix_valid)" 1 \
    "encrypt: PKIX valid with the CA"
assert_eq "$(field resume_enc session_reused 2)" 1 "encrypt: resumed"
assert_eq "$(field resume_enc cert_pkix_valid 2)" 1 \
    "encrypt, resumed: PKIX valid kept"
assert_eq "$(field resume_enc cert_name_match 2)" 1 \
    "encrypt, resumed: name match"
expect resume_enc2 OK
assert_eq "$(field resume_enc2 cert_pkix_valid)" 0 \
    "encrypt: not PKIX valid with another CA"
assert_eq "$(field resume_enc2 cert_pkix_valid 2)" 0 \
    "encrypt, resumed: still not PKIX valid"
