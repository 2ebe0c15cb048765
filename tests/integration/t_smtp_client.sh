#!/bin/sh
# t_smtp_client - the delivery client (smtp_client.c, tls_client.c) as
# real and hostile receivers see it, driven by tests/tools/smtpc_send.
#
#   THE RULE: at encrypt and verify, a receiver that does not offer
#   STARTTLS, answers it with 454, breaks the handshake or injects bytes
#   after "220 Ready" gets TLS_FAIL and not one byte of MAIL/RCPT/DATA or
#   message (its log records every byte it read, in plaintext or TLS).
#   verify: a test-CA certificate for mx.test is verified (verified=ca);
#   expired, wrong-name and self-signed ones, or the CA not given, are
#   TLS_FAIL with verified=failed. encrypt takes any certificate
#   (verified=none). may: plaintext to a server without STARTTLS and after
#   a 454; TLS when offered with only EHLO and STARTTLS in plaintext;
#   TLS_FAIL on a broken handshake or injection (the caller reconnects).
#   Floors: a TLSv1.1-only (and TLSv1-only, where this OpenSSL can) peer is
#   TLS_FAIL at the default floor, also when the context allows it and
#   only the post-handshake check stops it; the control with the floor
#   lowered shows the peer really speaks it. A NULL-cipher-only peer is
#   TLS_FAIL, and a context asked for NULL ciphers is refused.
#   Timeouts: a receiver stalled at the greeting, after EHLO or after the
#   final dot is TEMPFAIL within the configured time. Malformed, too long,
#   too many lines, huge, changing-code and NUL replies: TEMPFAIL.
#   Replies: 451 at the end of data, then 250 on the same connection; 550
#   to RCPT / at the end of data: PERMFAIL; one recipient 451 among
#   accepted ones; SIZE over the peer's limit: PERMFAIL 552 before MAIL.
#   Pipelining: MAIL, RCPT and DATA in one write; lock-step without it.
#   Reuse: 3 messages on one connection (RSET between), session resumed
#   on a second connection (TLSv1.3 and TLSv1.2). REQUIRETLS: refused
#   unless TLS + verified + offered, and then sent on MAIL; verify under
#   an MTA-STS policy (--mta-sts) is recorded as verified=mta-sts.
#   Real peer: Postfix smtp-sink gets byte-exact, dot-stuffed messages.
. "$(dirname "$0")/lib.sh"
RP=$((SG_PORT_BASE + 1))
SINKP=$((SG_PORT_BASE + 2))
FAKE=$SG_TOP/tests/integration/receivers/fakesmtp.py
BDIR=$(dirname "$SG_BIN")
SMTPC=$BDIR/tools/smtpc_send

# --- the driver: the Makefile rule if there is one, else a direct build
smtpc_fresh() {
	[ -x "$SMTPC" ] && [ ! "$SG_TOP/tests/tools/smtpc_send.c" -nt "$SMTPC" ] &&
	    [ ! "$BDIR/libsg.a" -nt "$SMTPC" ]
}
build_smtpc() {
	(cd "$SG_TOP" && make --no-print-directory BUILD="$(basename "$BDIR")" \
	    "$(basename "$BDIR")/tools/smtpc_send") >"$T/build.log" 2>&1 &&
	    smtpc_fresh && return 0
	san=""
	nm "$BDIR/libsg.a" 2>/dev/null | grep -q __asan_ &&
	    san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	mkdir -p "$BDIR/tools"
	# shellcheck disable=SC2086
	cc -std=gnu11 -Wall -Wextra -Werror -g $san -I"$SG_TOP" \
	    -I"$SG_TOP/gateway" -I"$SG_TOP/crypto" \
	    -o "$SMTPC" "$SG_TOP/tests/tools/smtpc_send.c" "$BDIR/libsg.a" \
	    $(pkg-config --libs openssl libpq libunbound 2>/dev/null) \
	    -lpthread >>"$T/build.log" 2>&1
}
if ! smtpc_fresh; then
	build_smtpc || { cat "$T/build.log" >&2; fail "cannot build $SMTPC"; }
fi

# --- certificates: a test CA; mx.test valid, expired and wrong-name
# leaves from it; a self-signed mx.test
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
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 30 -subj "/CN=sealgate test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$C/ca.key" -out "$C/ca.pem" 2>/dev/null || fail "test CA"

leaf() {	# NAME CN SAN [openssl ca date options]
	_n=$1 _cn=$2 _san=$3
	shift 3
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$_cn" -keyout "$C/$_n.key" -out "$C/$_n.csr" \
	    2>/dev/null || fail "key $_n"
	SAN=$_san openssl ca -batch -config "$C/ca.cnf" -extensions leaf \
	    -cert "$C/ca.pem" -keyfile "$C/ca.key" -in "$C/$_n.csr" \
	    -out "$C/$_n.pem" -notext "$@" >"$C/$_n.log" 2>&1 ||
	    { cat "$C/$_n.log" >&2; fail "certificate $_n"; }
}
leaf good mx.test DNS:mx.test -days 30
leaf expired mx.test DNS:mx.test -startdate 20200101000000Z \
    -enddate 20200201000000Z
leaf wrongname other.test DNS:other.test -days 30
leaf wild '*.example.test' 'DNS:*.example.test' -days 30
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 30 -subj "/CN=mx.test" -addext "subjectAltName=DNS:mx.test" \
    -keyout "$C/self.key" -out "$C/self.pem" 2>/dev/null || fail "self-signed"

# --- the message: a line with a leading dot, a "." line, a marker
MSG=$T/msg.eml
printf 'From: a@sender.test\r\nTo: b@rcpt.test\r\nSubject: t_smtp_client\r\n\r\nsecret-body-marker\r\n.leading dot\r\n.\r\nlast line\r\n' >"$MSG"

# --- receivers
# receivers: fakesmtp on 127.0.0.1:$RP (lib.sh fake_recv), log $T/NAME.log
recv_start() {	# NAME [fakesmtp options]
	_rn=$1
	shift
	fake_recv "$_rn" 127.0.0.1 "$RP" "$@"
}
recv_stop() {
	fake_recv_stop
}

# send NAME LEVEL [smtpc_send options] - to $PORT (default $RP) as $HOST
# (default mx.test), first recipient $TO (default b@rcpt.test); output in
# $T/NAME.out, exit code in $RC, seconds taken in $SECS
send() {
	_name=$1 _level=$2
	shift 2
	_t0=$(date +%s)
	RC=0
	"$SMTPC" --host "${HOST:-mx.test}" --addr 127.0.0.1 --port "${PORT:-$RP}" \
	    --level "$_level" --from a@sender.test --to "${TO:-b@rcpt.test}" \
	    --data "$MSG" --timeout 10 "$@" >"$T/$_name.out" \
	    2>"$T/$_name.stderr" || RC=$?
	SECS=$(($(date +%s) - _t0))
	if grep -E -q 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$T/$_name.stderr"; then
		cat "$T/$_name.stderr" >&2
		fail "$_name: sanitizer report from smtpc_send"
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

# plain_is_handshake NAME - all that arrived in plaintext was EHLO and
# STARTTLS; the message arrived inside TLS, byte-exact
plain_is_handshake() {
	_bad=$(grep -E '^C[0-9]+ PLAIN ' "$T/$1.log" |
	    grep -v -E "^C[0-9]+ PLAIN b'(EHLO client\\.test|STARTTLS)\\\\r\\\\n'\$" ||
	    true)
	[ -z "$_bad" ] || fail "$1: in plaintext: $_bad"
	grep -q '^tls=1$' "$T/$1.mail/001.env" || fail "$1: not stored as TLS"
	cmp -s "$MSG" "$T/$1.mail/001.eml" || fail "$1: message changed"
	ok "$1: only EHLO and STARTTLS in plaintext; message byte-exact in TLS"
}

GOOD="--cert $C/good.pem --key $C/good.key"

# --- THE RULE: required TLS that cannot be had sends nothing
for lvl in encrypt verify; do
	for mode in no-starttls starttls-454 broken-handshake inject; do
		n=rule_${lvl}_$mode
		recv_start $n $GOOD --$mode
		send $n $lvl --ca "$C/ca.pem"
		recv_stop
		expect $n TLS_FAIL
		nothing_sent $n
		assert_eq "$(field $n data_sent)" 0 "$n: data_sent=0"
	done
done
assert_contains "$(field rule_verify_inject reply)" "STARTTLS injection" \
    "injection named as such"
if grep -q '^C1 TLS ' "$T/rule_verify_inject.log"; then
	fail "injection: a TLS byte reached the receiver"
fi
ok "injection: the client never started TLS"
assert_contains "$(field rule_encrypt_no-starttls reply)" \
    "STARTTLS not offered" "downgrade named as such"
grep -q "PLAIN b'QUIT" "$T/rule_encrypt_no-starttls.log" ||
    fail "no-starttls: no polite QUIT"
ok "no-starttls: QUIT sent before closing"

# --- may
recv_start may_plain $GOOD --no-starttls
send may_plain may
recv_stop
expect may_plain OK
assert_eq "$(field may_plain tls)" 0 "may without STARTTLS: plaintext"
cmp -s "$MSG" "$T/may_plain.mail/001.eml" || fail "may_plain: message changed"
ok "may without STARTTLS: delivered byte-exact"

recv_start may_454 $GOOD --starttls-454
send may_454 may
recv_stop
expect may_454 OK
assert_eq "$(field may_454 tls)" 0 "may after 454: plaintext on the same connection"

recv_start may_tls $GOOD
send may_tls may
recv_stop
expect may_tls OK
assert_eq "$(field may_tls tls)" 1 "may with STARTTLS: TLS"
assert_eq "$(field may_tls verified)" none "may: certificate not checked"
plain_is_handshake may_tls

for mode in broken-handshake inject; do
	recv_start may_$mode $GOOD --$mode
	send may_$mode may
	recv_stop
	expect may_$mode TLS_FAIL
	nothing_sent may_$mode
done

recv_start none_tls $GOOD
send none_tls none
recv_stop
expect none_tls OK
assert_eq "$(field none_tls tls)" 0 "none: no STARTTLS although offered"
if grep -q "PLAIN b'STARTTLS" "$T/none_tls.log"; then
	fail "none: STARTTLS sent"
fi

# --- verify and encrypt against certificates
recv_start verify_good $GOOD
send verify_good verify --ca "$C/ca.pem"
recv_stop
expect verify_good OK
assert_eq "$(field verify_good verified)" ca "verify, test-CA certificate: verified=ca"
assert_eq "$(field verify_good peer_cert_subject)" "CN=mx.test" "peer subject recorded"
assert_eq "$(field verify_good tls_protocol)" TLSv1.3 "TLSv1.3 negotiated"
[ "$(field verify_good tls_bits)" -ge 128 ] || fail "tls_bits < 128"
ok "tls_bits $(field verify_good tls_bits), cipher $(field verify_good tls_cipher)"
plain_is_handshake verify_good

recv_start verify_noca $GOOD
send verify_noca verify
recv_stop
expect verify_noca TLS_FAIL
assert_eq "$(field verify_noca verified)" failed "verify, CA unknown: verified=failed"
nothing_sent verify_noca

for cert in expired wrongname self; do
	n=verify_$cert
	recv_start $n --cert "$C/$cert.pem" --key "$C/$cert.key"
	send $n verify --ca "$C/ca.pem"
	recv_stop
	expect $n TLS_FAIL
	assert_eq "$(field $n verified)" failed "$n: verified=failed"
	nothing_sent $n
done
assert_contains "$(field verify_expired reply)" "expired" "expired named"
assert_contains "$(field verify_wrongname reply)" "mismatch" "wrong name named"

# wildcards: the whole left-most label only
recv_start wild --cert "$C/wild.pem" --key "$C/wild.key"
HOST=mx.example.test send wild_ok verify --ca "$C/ca.pem"
expect wild_ok OK
HOST=a.mx.example.test send wild_deep verify --ca "$C/ca.pem"
recv_stop
expect wild_deep TLS_FAIL

for cert in self expired; do
	n=encrypt_$cert
	recv_start $n --cert "$C/$cert.pem" --key "$C/$cert.key"
	send $n encrypt
	recv_stop
	expect $n OK
	assert_eq "$(field $n verified)" none "$n: verified=none"
	plain_is_handshake $n
done

# --- protocol floors
# tls_old V NAME - a peer that speaks only TLS V
tls_old() {
	_v=$1 _n=$2
	recv_start ${_n}_ctl $GOOD --tls-min "$_v" --tls-max "$_v"
	send ${_n}_ctl encrypt --tls-min "$_v"
	recv_stop
	if [ "$(field ${_n}_ctl status)" != OK ]; then
		echo "# skip: TLSv$_v peer not reachable here: $(field ${_n}_ctl reply)"
		return 0
	fi
	_proto=$(field ${_n}_ctl tls_protocol)
	case $_v in
	1.0) [ "$_proto" = TLSv1 ] ;;
	*) [ "$_proto" = "TLSv$_v" ] ;;
	esac || fail "${_n}_ctl: negotiated $_proto"
	ok "control: the peer really speaks $_proto"
	for lvl in encrypt verify; do
		recv_start ${_n}_$lvl $GOOD --tls-min "$_v" --tls-max "$_v"
		send ${_n}_$lvl $lvl --ca "$C/ca.pem"
		recv_stop
		expect ${_n}_$lvl TLS_FAIL
		nothing_sent ${_n}_$lvl
	done
	# the context would allow it: the check after the handshake stops it
	recv_start ${_n}_post $GOOD --tls-min "$_v" --tls-max "$_v"
	send ${_n}_post encrypt --ctx-min "$_v"
	recv_stop
	expect ${_n}_post TLS_FAIL
	assert_contains "$(field ${_n}_post reply)" "below the floor" \
	    "${_n}_post: stopped by the post-handshake floor"
	nothing_sent ${_n}_post
}
tls_old 1.1 tls11
tls_old 1.0 tls10

recv_start weak $GOOD --tls-max 1.2 --ciphers 'eNULL:@SECLEVEL=0'
out=$(printf 'EHLO x\r\nQUIT\r\n' | timeout 10 openssl s_client -starttls smtp \
    -connect 127.0.0.1:$RP -tls1_2 -cipher 'eNULL:@SECLEVEL=0' -ign_eof 2>&1 ||
    true)
assert_contains "$out" "Cipher is ECDHE-ECDSA-NULL-SHA" \
    "control: the weak peer does agree a NULL cipher with s_client"
send weak encrypt
recv_stop
expect weak TLS_FAIL
nothing_sent weak
send weak_ctx encrypt --ciphers 'eNULL:@SECLEVEL=0'
assert_eq "$RC" 2 "a context with NULL ciphers is refused"
assert_contains "$(cat "$T/weak_ctx.stderr")" "under 128 bits" "refusal names the reason"

# --- timeouts
for st in greeting ehlo dataend; do
	n=stall_$st
	recv_start $n $GOOD --stall $st
	send $n may --timeout 2
	recv_stop
	expect $n TEMPFAIL
	[ "$SECS" -le 5 ] || fail "$n: took $SECS s with a 2 s timeout"
	assert_contains "$(field $n reply)" timeout "$n: timeout named"
	ok "$n: gave up after $SECS s"
done
assert_eq "$(field stall_dataend data_sent)" 1 "stall after the dot: data was sent"
assert_eq "$(field stall_dataend rcpt.0.code)" 0 \
    "stall after the dot: RCPT's 250 is no final word (code 0)"

# --- malformed and oversized replies
for bad in ehlo:syntax ehlo:toolong ehlo:toomany ehlo:huge ehlo:codechange \
    ehlo:nul greeting:syntax mail:toolong rcpt:codechange dataend:nul; do
	n=bad_$(echo "$bad" | tr ':' '_')
	recv_start $n $GOOD --bad "$bad"
	send $n may
	recv_stop
	expect $n TEMPFAIL
	assert_contains "$(field $n reply)" "protocol error" "$n: protocol error"
done

# --- greeting and EHLO
recv_start greet554 $GOOD --fail greeting:554
send greet554 may
recv_stop
expect greet554 PERMFAIL
assert_eq "$(field greet554 code)" 554 "greeting 554: PERMFAIL 554"
recv_start greet421 $GOOD --fail greeting:421
send greet421 may
recv_stop
expect greet421 TEMPFAIL
recv_start helo $GOOD --fail ehlo:502
send helo may
recv_stop
expect helo OK
grep -q "PLAIN b'HELO client.test" "$T/helo.log" || fail "helo: no HELO"
ok "EHLO 502 at may: HELO, delivered in plaintext"
recv_start helo_enc $GOOD --fail ehlo:502
send helo_enc encrypt
recv_stop
expect helo_enc TLS_FAIL
nothing_sent helo_enc
if grep -q "b'HELO" "$T/helo_enc.log"; then
	fail "helo_enc: HELO fallback at encrypt"
fi
ok "EHLO 502 at encrypt: no HELO fallback"

# --- replies
recv_start t451 $GOOD --fail dataend:451:1
send t451 verify --ca "$C/ca.pem" --count 2
recv_stop
assert_eq "$(field t451 status 1)" TEMPFAIL "451 at the end of data: TEMPFAIL"
assert_eq "$(field t451 code 1)" 451 "451 recorded"
assert_eq "$(field t451 rcpt.0.code 1)" 451 "the recipient got the 451"
assert_eq "$(field t451 status 2)" OK "then 250 on the same connection"
assert_eq "$(grep -c 'EVENT connect' "$T/t451.log")" 1 "one connection"
assert_eq "$(ls "$T/t451.mail" | grep -c eml)" 1 "one message stored"

recv_start r550 $GOOD --fail rcpt:550
send r550 verify --ca "$C/ca.pem" --to c@rcpt.test
recv_stop
expect r550 PERMFAIL
assert_eq "$(field r550 rcpt.1.code)" 550 "every RCPT 550"
grep -q "TLS b'RSET" "$T/r550.log" || fail "no RSET after all RCPTs refused"
ok "RSET after all recipients refused"
nothing_of_body=$(grep -c 'secret-body' "$T/r550.log" || true)
assert_eq "$nothing_of_body" 0 "r550: no message data sent"

recv_start d550 $GOOD --fail dataend:550
send d550 verify --ca "$C/ca.pem"
recv_stop
expect d550 PERMFAIL
assert_eq "$(field d550 rcpt.0.code)" 550 "d550: the recipient got the 550"

recv_start mixed $GOOD
send mixed verify --ca "$C/ca.pem" --to later@rcpt.test --to reject@rcpt.test
recv_stop
expect mixed OK
assert_eq "$(field mixed rcpt.0.code)" 250 "mixed: accepted recipient 250"
assert_eq "$(field mixed rcpt.1.code)" 451 "mixed: deferred recipient 451"
assert_eq "$(field mixed rcpt.2.code)" 550 "mixed: refused recipient 550"

for pl in "" --no-pipelining; do
	n=noacc${pl:+_lockstep}
	recv_start $n $GOOD $pl
	TO=later@rcpt.test send $n verify --ca "$C/ca.pem" --to reject@rcpt.test
	recv_stop
	expect $n TEMPFAIL
	assert_eq "$(field $n code)" 451 "$n: the 4xx decides"
	assert_eq "$(field $n rcpt.0.code)" 451 "$n: deferred recipient 451"
	assert_eq "$(field $n rcpt.1.code)" 550 "$n: refused recipient 550"
	grep -q "TLS b'RSET" "$T/$n.log" || fail "$n: no RSET"
	ok "$n: RSET after no recipient was accepted"
	nothing_sent_body=$(grep -c 'secret-body' "$T/$n.log" || true)
	assert_eq "$nothing_sent_body" 0 "$n: no message data sent"

	n=mail550${pl:+_lockstep}
	recv_start $n $GOOD $pl --fail mail:550:1
	send $n verify --ca "$C/ca.pem" --count 2
	recv_stop
	assert_eq "$(field $n status 1)" PERMFAIL "$n: MAIL 550: PERMFAIL"
	assert_eq "$(field $n code 1)" 550 "$n: code 550"
	assert_eq "$(field $n rcpt.0.code 1)" 0 "$n: recipient not tried"
	assert_eq "$(field $n status 2)" OK "$n: next message on the same connection OK"
	assert_eq "$(grep -c 'EVENT connect' "$T/$n.log")" 1 "$n: one connection"

	n=data554${pl:+_lockstep}
	recv_start $n $GOOD $pl --fail data:554
	send $n verify --ca "$C/ca.pem"
	recv_stop
	expect $n PERMFAIL
	assert_eq "$(field $n rcpt.0.code)" 554 "$n: accepted recipient gets DATA's 554"
done

recv_start size $GOOD --size 50
send size verify --ca "$C/ca.pem"
recv_stop
expect size PERMFAIL
assert_eq "$(field size code)" 552 "over the peer's SIZE: 552"
nothing_sent size

recv_start sizeok $GOOD --size 100000 --no-pipelining
send sizeok verify --ca "$C/ca.pem" --8bit
recv_stop
expect sizeok OK
grep -q "TLS b'MAIL FROM:<a@sender.test> SIZE=$(wc -c <"$MSG") BODY=8BITMIME\\\\r\\\\n'" \
    "$T/sizeok.log" || fail "sizeok: MAIL without SIZE= and BODY="
ok "MAIL FROM carries SIZE= and BODY=8BITMIME, alone in its write (no PIPELINING)"
grep -q "TLS b'RCPT TO:<b@rcpt.test>\\\\r\\\\n'" "$T/sizeok.log" ||
    fail "sizeok: RCPT not alone in its write"
ok "lock-step RCPT without PIPELINING"
grep -q "TLS b'MAIL FROM:<a@sender.test>\\\\r\\\\nRCPT TO:<b@rcpt.test>\\\\r\\\\nDATA\\\\r\\\\n'" \
    "$T/verify_good.log" || fail "PIPELINING: MAIL, RCPT, DATA not in one write"
ok "PIPELINING: MAIL, RCPT and DATA in one write"

# --- connection reuse and session resumption
recv_start reuse $GOOD
send reuse verify --ca "$C/ca.pem" --count 3
recv_stop
expect reuse OK
assert_eq "$(grep -c '^status=OK$' "$T/reuse.out")" 3 "3 messages OK"
assert_eq "$(grep -c 'EVENT connect' "$T/reuse.log")" 1 "on one connection"
assert_eq "$(grep -c "TLS b'RSET" "$T/reuse.log")" 2 "RSET between messages"
assert_eq "$(ls "$T/reuse.mail" | grep -c eml)" 3 "3 messages stored"

for v in 1.3 1.2; do
	n=resume_$(echo $v | tr -d .)
	recv_start $n $GOOD --tls-max $v
	send $n verify --ca "$C/ca.pem" --connections 2
	recv_stop
	expect $n OK
	assert_eq "$(field $n session_reused 1)" 0 "$n: first connection full handshake"
	assert_eq "$(field $n session_reused 2)" 1 "$n: second connection resumed"
	assert_eq "$(field $n verified 2)" ca "$n: resumed session still verified=ca"
	grep -q 'EVENT tls .*resumed=1' "$T/$n.log" || fail "$n: receiver saw no resumption"
done

# --- REQUIRETLS
recv_start rt_none $GOOD
send rt_none verify --ca "$C/ca.pem" --requiretls
recv_stop
expect rt_none REQUIRETLS_FAIL
nothing_sent rt_none

recv_start rt_ok $GOOD --requiretls
send rt_ok verify --ca "$C/ca.pem" --requiretls
recv_stop
expect rt_ok OK
grep -q "TLS b'MAIL FROM:<a@sender.test> REQUIRETLS" "$T/rt_ok.log" ||
    fail "rt_ok: MAIL without REQUIRETLS"
ok "REQUIRETLS sent on MAIL FROM"

# a host an MTA-STS policy names: verified the same way, recorded as
# mta-sts, and good enough for REQUIRETLS
recv_start rt_sts $GOOD --requiretls
send rt_sts verify --ca "$C/ca.pem" --mta-sts --requiretls
recv_stop
expect rt_sts OK
assert_eq "$(field rt_sts verified)" mta-sts "verify under MTA-STS: verified=mta-sts"
grep -q "TLS b'MAIL FROM:<a@sender.test> REQUIRETLS" "$T/rt_sts.log" ||
    fail "rt_sts: MAIL without REQUIRETLS"
ok "REQUIRETLS sent over verified=mta-sts"
recv_start rt_sts_bad --cert "$C/wrongname.pem" --key "$C/wrongname.key"
send rt_sts_bad verify --ca "$C/ca.pem" --mta-sts
recv_stop
expect rt_sts_bad TLS_FAIL
assert_eq "$(field rt_sts_bad verified)" failed "MTA-STS, wrong name: verified=failed"
nothing_sent rt_sts_bad

recv_start rt_enc --cert "$C/self.pem" --key "$C/self.key" --requiretls
send rt_enc encrypt --requiretls
recv_stop
expect rt_enc REQUIRETLS_FAIL
nothing_sent rt_enc

recv_start rt_plain --no-starttls --requiretls
send rt_plain may --requiretls
recv_stop
expect rt_plain REQUIRETLS_FAIL
nothing_sent rt_plain

# --- a real receiver: Postfix smtp-sink, plaintext, kept connection
mkdir -p "$T/sink"
chmod 777 "$T/sink"
smtp-sink -u postfix -d "$T/sink/%M." 127.0.0.1:$SINKP 100 \
    >"$T/sink.log" 2>&1 &
SINK_PID=$!
bg_track $SINK_PID
wait_port $SINKP 10 || fail "smtp-sink did not start"
HOST=localhost PORT=$SINKP send sink none --to c@rcpt.test --count 3
expect sink OK
assert_eq "$(grep -c '^status=OK$' "$T/sink.out")" 3 "smtp-sink: 3 messages OK"
i=0
while [ "$(ls "$T/sink" | wc -l)" -lt 3 ] && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
assert_eq "$(ls "$T/sink" | wc -l)" 3 "smtp-sink dumped 3 messages"
f=$(ls "$T/sink" | head -1)
# smtp-sink writes its own headers, then the message with LF line ends
# and one empty line after it
sed 's/\r$//' "$MSG" >"$T/msg.lf"
tail -n "$(($(wc -l <"$T/msg.lf") + 1))" "$T/sink/$f" | head -n -1 \
    >"$T/sink.tail"
cmp -s "$T/msg.lf" "$T/sink.tail" || {
	diff "$T/msg.lf" "$T/sink.tail" >&2
	fail "smtp-sink: message differs"
}
ok "smtp-sink: message un-stuffed to exactly what was sent"
grep -q 'X-Rcpt-Args: <c@rcpt.test>' "$T/sink/$f" || fail "smtp-sink: rcpt"
ok "smtp-sink: both recipients"
kill $SINK_PID 2>/dev/null || true
wait $SINK_PID 2>/dev/null || true
BG_PIDS=$(echo " $BG_PIDS " | sed "s/ $SINK_PID / /")
