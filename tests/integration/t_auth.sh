#!/bin/sh
# t_auth - relaying needs a trusted network or SMTP AUTH inside TLS.
#   relay_networks = 10.0.0.0/8, so 127.0.0.1 is not trusted: RCPT gets
#   554 5.7.1 and nothing is queued; AUTH before STARTTLS 530 5.7.0;
#   after `admin user add relay1` (password on stdin) swaks -tls with
#   --auth PLAIN and --auth LOGIN gets 235 and its message is queued,
#   and queue show says "auth user: relay1" (Received: "with ESMTPSA");
#   a wrong password and an unknown user both get the same 535 5.7.8 and
#   take as long (no enumeration); an authorization identity other than
#   the user is refused; a changed password and a deleted user take
#   effect at once; the gateway's log never holds a password, plain or
#   base64.
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
S=$SG_TOP/tests/integration/scripts
gw_config gw $P <<EOF
relay_networks = 10.0.0.0/8
log_level = debug
EOF
gw_start gw $P
LOG=$SG_TMP/$SG_TEST.gw.log
PW='Corr3ct horse#battery'
BAD='Wr0ng horse#battery'
PW2='N3w staple#battery'
b64() { printf "$1" | base64 -w0; }	# printf escapes: \\0 is NUL

# --- not trusted, not authenticated
run_script $P "$S/auth_norelay.smtp" >/dev/null
ok "untrusted client: RCPT 554 5.7.1 (plaintext and TLS), AUTH before STARTTLS 530 5.7.0"
out=$(swaks --server 127.0.0.1:$P --helo client.test -tls \
    --from auth-none-swaks@example.org --to b@example.com 2>&1 || true)
assert_contains "$out" "554 5.7.1" "swaks -tls without AUTH: 554 5.7.1"
assert_not_contains "$out" "queued as" "swaks -tls without AUTH: not queued"
for f in auth-none@example.org auth-none-tls@example.org auth-none-swaks@example.org; do
	assert_eq "$(count_from $f)" 0 "nothing queued from <$f>"
done

# --- the account
printf '%s\n' "$PW" | sg gw admin user add relay1 >"$T/add.out" ||
    fail "admin user add relay1: $(cat "$T/add.out")"
assert_contains "$(cat "$T/add.out")" "added" "admin user add relay1 (password on stdin)"

# auth_send MECH USER PASSWORD SENDER - swaks -tls with AUTH
auth_send() {
	swaks --server 127.0.0.1:$P --helo client.test -tls --auth "$1" \
	    --auth-user "$2" --auth-password "$3" --from "$4" \
	    --to b@example.com 2>&1 || true
}

for mech in PLAIN LOGIN; do
	from=auth-$(echo $mech | tr A-Z a-z)@example.org
	out=$(auth_send $mech relay1 "$PW" $from)
	assert_contains "$out" "235 2.7.0" "AUTH $mech relay1, right password: 235"
	id=$(queued_id "$out")
	[ -n "$id" ] || fail "AUTH $mech: message not queued: $out"
	ok "AUTH $mech: the message relays (queued as $id)"
	show=$(sg gw queue show "$id")
	assert_contains "$show" "auth user:    relay1" "AUTH $mech: queue show says auth user relay1"
	assert_contains "$(sg gw queue show "$id" --json)" '"auth_user":"relay1"' \
	    "AUTH $mech: queue show --json auth_user"
	assert_contains "$(sg gw queue show "$id" --raw | tr -d '\r')" \
	    "$(printf '\tby mx.test (sealgate) with ESMTPSA')" "AUTH $mech: Received: with ESMTPSA"
	assert_eq "$(count_from $from)" 1 "AUTH $mech: exactly one message queued"
done

# --- authorization identity, cancel, AUTH twice
run_script $P "$S/auth_authzid.smtp" \
    AS_OTHER="$(b64 "admin\\0relay1\\0$PW")" \
    AS_SELF="$(b64 "relay1\\0relay1\\0$PW")" >/dev/null
ok "AUTH PLAIN as another authzid 535 5.7.8, as itself 235; '*' cancels (501); AUTH twice 503"

# --- failures: the same reply whether the user exists or not
for mech in PLAIN LOGIN; do
	lc=$(echo $mech | tr A-Z a-z)
	wrong=$(auth_send $mech relay1 "$BAD" auth-wrong-$lc@example.org)
	nouser=$(auth_send $mech ghost1 "$PW" auth-ghost-$lc@example.org)
	r1=$(printf '%s\n' "$wrong" | grep '^<~\* *5[0-9][0-9] ' | sed 's/^<~\* *//')
	r2=$(printf '%s\n' "$nouser" | grep '^<~\* *5[0-9][0-9] ' | sed 's/^<~\* *//')
	assert_contains "$r1" "535 5.7.8" "AUTH $mech wrong password: 535 5.7.8"
	assert_contains "$r2" "535 5.7.8" "AUTH $mech unknown user: 535 5.7.8"
	assert_eq "$r2" "$r1" "AUTH $mech: unknown user and wrong password get the same reply"
	assert_eq "$(count_from auth-wrong-$lc@example.org)$(count_from auth-ghost-$lc@example.org)" \
	    00 "AUTH $mech failures: nothing queued"
done

# --- and the same time: an unknown user costs a password check too
# (best of 2 each; without a dummy check it would be ~10 times faster)
best() {	# CRED - the fastest of 2 failed AUTH PLAIN, in ms
	_b=""
	for i in 1 2; do
		_o=$(run_script $P "$S/auth_fail_timing.smtp" CRED="$1") || exit 1
		_b="$_b $(printf '%s\n' "$_o" | sed -n 's/^elapsed auth //p')"
	done
	echo $_b | awk 'NF == 2 {m = $1 < $2 ? $1 : $2; printf "%d\n", m * 1000}'
}
t_wrong=$(best "$(b64 "\\0relay1\\0$BAD")")
t_ghost=$(best "$(b64 "\\0ghost1\\0$PW")")
echo "# failed AUTH: wrong password ${t_wrong} ms, unknown user ${t_ghost} ms"
[ -n "$t_wrong" ] && [ -n "$t_ghost" ] || fail "failed AUTH not timed"
[ $((t_ghost * 2)) -ge "$t_wrong" ] ||
    fail "unknown user answered in $t_ghost ms, wrong password in $t_wrong ms: the user list leaks by timing"
ok "unknown user and wrong password take comparable time"

# --- a new password replaces the old one at once; a deleted user is gone
printf '%s\n' "$PW2" >"$T/pw2"
sg gw admin user add relay1 --password-file "$T/pw2" >"$T/upd.out" ||
    fail "admin user add relay1 --password-file: $(cat "$T/upd.out")"
assert_contains "$(cat "$T/upd.out")" "updated" "admin user add relay1 again: password updated"
out=$(auth_send PLAIN relay1 "$PW" auth-oldpw@example.org)
assert_contains "$out" "535 5.7.8" "after the update the old password gets 535 5.7.8"
out=$(auth_send PLAIN relay1 "$PW2" auth-newpw@example.org)
assert_contains "$out" "235 2.7.0" "after the update the new password gets 235"
sg gw admin user delete relay1 >/dev/null || fail "admin user delete relay1"
out=$(auth_send PLAIN relay1 "$PW2" auth-deleted@example.org)
assert_contains "$out" "535 5.7.8" "deleted user: 535 5.7.8"
assert_eq "$(count_from auth-oldpw@example.org)/$(count_from auth-newpw@example.org)/$(count_from auth-deleted@example.org)" \
    0/1/0 "queued: old password no, new password yes, deleted user no"

# --- the log knows who, never the secret
grep -q 'event=auth user="relay1" result=ok' "$LOG" ||
    fail "no successful auth logged for relay1"
grep -q 'event=auth user="ghost1" result=fail' "$LOG" ||
    fail "no failed auth logged for ghost1"
ok "auth results are logged with the user name"
for secret in "$PW" "$BAD" "$(b64 "$PW")" "$(b64 "$BAD")" \
    "$(b64 "\\0relay1\\0$PW")" "$(b64 "\\0relay1\\0$BAD")" \
    "$(b64 "\\0ghost1\\0$PW")" "$(b64 "admin\\0relay1\\0$PW")" \
    "$(b64 "relay1\\0relay1\\0$PW")" "$PW2" "$(b64 "\\0relay1\\0$PW2")" \
    "Corr3ct" "Wr0ng" "N3w"; do
	if grep -qF -- "$secret" "$LOG"; then
		fail "the gateway log holds a password or its base64 ($secret)"
	fi
done
ok "the gateway log holds no password, plain or base64"
