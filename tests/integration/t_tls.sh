#!/bin/sh
# t_tls - STARTTLS as a real TLS client (openssl s_client) sees it:
#   TLSv1 and TLSv1.1 refused (a control gateway that allows TLSv1.1
#   shows the client really offers it); TLSv1.2 and TLSv1.3 work; a
#   cipher under 128 bits (NULL; 3DES too where this OpenSSL still has
#   it) is refused (an `openssl s_server` control shows the client can
#   negotiate it with this certificate); a 128-bit cipher works; with
#   smtp_tls_min_version = TLSv1.3 TLSv1.2 is refused.
#   Transcripts: EHLO lists STARTTLS and not AUTH/REQUIRETLS before TLS,
#   the reverse after it; AUTH before TLS 530 5.7.0; STARTTLS twice
#   554 5.5.1; REQUIRETLS 530 5.7.10 in plaintext, queued with
#   requiretls yes inside TLS. A message over TLSv1.2 is recorded with
#   the protocol and cipher the client saw. The server ends TLS with
#   close_notify.
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
S=$SG_TOP/tests/integration/scripts
gw_config gw $P </dev/null
gw_start gw $P

# tls_try PORT [s_client options] - STARTTLS, then EHLO and QUIT inside
# TLS; prints what s_client printed
tls_try() {
	_p=$1
	shift
	printf 'EHLO client.test\r\nQUIT\r\n' | timeout 15 openssl s_client \
	    -starttls smtp -name client.test -connect 127.0.0.1:$_p \
	    -ign_eof "$@" 2>&1 |
	    grep -E 'alert|error|eof|Protocol  :|Cipher is|Cipher    :|^[0-9]{3}[ -]' || true
}

# tls_ok WHAT PROTOCOL OUTPUT - the handshake made PROTOCOL and the SMTP
# session went on inside it
tls_ok() {
	case "$3" in
	*"Protocol  : $2"*"250-AUTH PLAIN LOGIN"*"221 2.0.0"* | \
	*"250-AUTH PLAIN LOGIN"*"221 2.0.0"*"Protocol  : $2"*) ok "$1" ;;
	*) fail "$1: want a $2 session with EHLO and QUIT inside, got: $3" ;;
	esac
}

# tls_refused WHAT ALERT OUTPUT - the server ended the handshake with
# ALERT and no SMTP reply came inside TLS
tls_refused() {
	assert_contains "$3" "$2" "$1"
	assert_not_contains "$3" "250-AUTH" "$1: no SMTP inside TLS"
	assert_contains "$3" "Cipher is (NONE)" "$1: no cipher agreed"
}

# --- protocol versions (the client needs SECLEVEL=0 to offer < TLSv1.2)
out=$(tls_try $P -tls1 -cipher 'DEFAULT:@SECLEVEL=0')
tls_refused "TLSv1 refused" "alert protocol version" "$out"
out=$(tls_try $P -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
tls_refused "TLSv1.1 refused" "alert protocol version" "$out"
out=$(tls_try $P -tls1_2)
tls_ok "TLSv1.2 accepted" TLSv1.2 "$out"
out=$(tls_try $P -tls1_3)
tls_ok "TLSv1.3 accepted" TLSv1.3 "$out"

# control: the same client does get TLSv1.1 where it is allowed
gw_config old $((P + 1)) <<EOF
smtp_tls_min_version = TLSv1.1
smtp_tls_ciphers = HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:@SECLEVEL=0
EOF
gw_start old $((P + 1))
out=$(tls_try $((P + 1)) -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
tls_ok "control: TLSv1.1 works where smtp_tls_min_version = TLSv1.1" TLSv1.1 "$out"
gw_stop old

# --- ciphers: 128 bits is the floor
out=$(tls_try $P -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA)
tls_ok "TLSv1.2 with a 128-bit cipher (ECDHE-ECDSA-AES128-SHA) accepted" TLSv1.2 "$out"
assert_contains "$out" "Cipher    : ECDHE-ECDSA-AES128-SHA" "the 128-bit cipher was the one agreed"

# weak_cipher NAME - refused by the gateway, agreed by s_server (control)
weak_cipher() {
	out=$(tls_try $P -tls1_2 -cipher "$1:@SECLEVEL=0")
	tls_refused "TLSv1.2 with $1 refused" "alert handshake failure" "$out"
	openssl s_server -accept $((P + 2)) -cert "$SG_TMP/cert.pem" \
	    -key "$SG_TMP/key.pem" -cipher "$1:@SECLEVEL=0" -www \
	    </dev/null >"$T/s_server.out" 2>&1 &
	srv=$!
	bg_track $srv
	wait_port $((P + 2)) 5 || fail "s_server did not start"
	ctl=$(printf 'x\n' | timeout 10 openssl s_client -connect 127.0.0.1:$((P + 2)) \
	    -tls1_2 -cipher "$1:@SECLEVEL=0" 2>&1 || true)
	kill $srv 2>/dev/null || true
	wait $srv 2>/dev/null || true
	assert_contains "$ctl" "Cipher is $1" "control: s_server with this certificate agrees $1"
}
weak_cipher ECDHE-ECDSA-NULL-SHA
if openssl ciphers 'ECDHE-ECDSA-DES-CBC3-SHA:@SECLEVEL=0' >/dev/null 2>&1; then
	weak_cipher ECDHE-ECDSA-DES-CBC3-SHA
else
	echo "skip - this OpenSSL has no 3DES; NULL stands for the weak ciphers"
fi

# --- smtp_tls_min_version = TLSv1.3
gw_config tls13 $((P + 3)) <<EOF
smtp_tls_min_version = TLSv1.3
EOF
gw_start tls13 $((P + 3))
out=$(tls_try $((P + 3)) -tls1_2)
tls_refused "min TLSv1.3: TLSv1.2 refused" "alert protocol version" "$out"
out=$(tls_try $((P + 3)) -tls1_3)
tls_ok "min TLSv1.3: TLSv1.3 accepted" TLSv1.3 "$out"
gw_stop tls13

# --- what was agreed is what the queue records
out=$(swaks --server 127.0.0.1:$P --helo client.test -tls --tls-protocol tlsv1_2 \
    --from tls-12@example.org --to b@example.com 2>&1 || true)
cipher=$(printf '%s\n' "$out" | sed -n 's/^=== TLS started with cipher TLSv1.2:\([^:]*\):.*/\1/p')
id=$(queued_id "$out")
[ -n "$cipher" ] && [ -n "$id" ] || fail "swaks over TLSv1.2: $out"
assert_contains "$(sg gw queue show "$id")" "inbound TLS:  TLSv1.2 $cipher (256 bits)" \
    "a message over TLSv1.2: queue show names TLSv1.2 and the cipher the client saw"

# --- EHLO, AUTH and STARTTLS around the handshake
run_script $P "$S/tls_ehlo.smtp" >/dev/null
ok "tls_ehlo: EHLO before/after TLS, AUTH before TLS 530 5.7.0, STARTTLS twice 554 5.5.1"

# --- REQUIRETLS
out=$(run_script $P "$S/tls_requiretls.smtp")
id=$(queued_id "$out")
[ -n "$id" ] || fail "REQUIRETLS inside TLS: not queued: $out"
ok "REQUIRETLS: 530 5.7.10 in plaintext, 250 inside TLS"
assert_eq "$(count_from tls-rt-plain@example.org)" 0 "REQUIRETLS in plaintext: nothing queued"
show=$(sg gw queue show "$id")
assert_contains "$show" "requiretls:   yes" "queue show: requiretls yes"
assert_contains "$show" "inbound TLS:  TLSv1.3" "queue show: inbound TLSv1.3"
assert_contains "$(sg gw queue show "$id" --json)" '"requiretls":true' "queue show --json: requiretls true"

# --- TLS closure (RFC 8446 6.1): QUIT inside TLS ends with close_notify,
# not a bare TCP FIN (OpenSSL 3 clients report "unexpected eof")
out=$(tls_try $P -tls1_3)
tls_ok "QUIT inside TLS" TLSv1.3 "$out"
assert_not_contains "$out" "unexpected eof" "server sends close_notify before closing the TLS connection"
