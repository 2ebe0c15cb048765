#!/bin/sh
# t_lifecycle - the command line and the life of `sealgate serve`.
#   1. --help, `queue --help`, `version` (and the other commands' --help)
#      work without a config file;
#   2. check-config: a valid file prints "FILE: ok", exit 0; an unknown
#      key, a bad value, a key given twice, a missing or non-PEM
#      certificate each exit 1 with stderr starting "FILE:LINE: " and
#      naming the reason;
#   3. serve with a bad config exits non-zero and leaves its port closed;
#      serve on a port already taken exits non-zero;
#   4. migrate twice: the second run applies nothing;
#   5. as root: the ingress (and delivery) role runs as user sealgate, the
#      supervisor stays root;
#   6. kill -9 of the ingress role: event=role_died, restart after 1 s
#      with a new pid that serves mail; killed again at once: restart_in=2
#      and a 2 s wait; again: capped at restart_backoff_max (3 s); the
#      delivery role is never touched;
#   7. SIGTERM with an idle client connected: the client gets "421 4.3.2"
#      and is disconnected, the supervisor exits 0 within 5 s, the port is
#      closed and no role process is left.
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
TAG=life$$
FORMAT_FAILS=""

# stderr_names FILE LINE REASON WHAT - the captured stderr ($T/err) names
# FILE:LINE and REASON; it must START with "FILE:LINE: " (collected: the
# test goes on and fails at the end)
stderr_names() {
	_e=$(cat "$T/err")
	assert_contains "$_e" "$1:$2: " "$4: stderr names $1:$2"
	assert_contains "$_e" "$3" "$4: stderr names the reason ($3)"
	case "$_e" in
	"$1:$2: "*) ok "$4: stderr starts with FILE:LINE" ;;
	*)
		echo "FAIL: $4: stderr does not start with '$1:$2: ': $_e" >&2
		FORMAT_FAILS="$FORMAT_FAILS
  $4: $_e" ;;
	esac
}

# line_of KEY FILE - the line number of KEY in FILE
line_of() {
	grep -n "^$1 *=" "$2" | head -1 | cut -d: -f1
}

# --- 1. help and version without a config file
mkdir -p "$T/empty"
nocfg() {	# args... - run sealgate in an empty directory, no config
	(cd "$T/empty" && SEALGATE_CONFIG="$T/empty/none.conf" "$SG_BIN" "$@")
}
out=$(nocfg --help) || fail "sealgate --help: exit $?"
assert_contains "$out" "usage: sealgate" "sealgate --help without a config"
out=$(nocfg queue --help) || fail "sealgate queue --help: exit $?"
assert_contains "$out" "queue list" "sealgate queue --help without a config"
out=$(nocfg version) || fail "sealgate version: exit $?"
case "$out" in
"sealgate "[0-9]*) ok "sealgate version without a config: $out" ;;
*) fail "sealgate version: got '$out'" ;;
esac
for c in serve check-config migrate admin; do
	out=$(nocfg $c --help) || fail "sealgate $c --help: exit $?"
	assert_contains "$out" "usage: sealgate" "sealgate $c --help without a config"
done

# --- 2. check-config
gw_config ok $P </dev/null
okconf=$T/ok.conf
out=$(sg ok check-config 2>"$T/err") || fail "check-config on a valid file: exit $?: $(cat "$T/err")"
assert_eq "$out" "$okconf: ok" "check-config: valid file"

# bad CASE REASON - check-config on $T/CASE.conf: exit 1, names the reason;
# the problem is on line $L
bad() {
	rc=0
	"$SG_BIN" -c "$T/$1.conf" check-config >"$T/out" 2>"$T/err" || rc=$?
	assert_eq "$rc" 1 "check-config $1: exit status"
	assert_eq "$(cat "$T/out")" "" "check-config $1: nothing on stdout"
	stderr_names "$T/$1.conf" "$L" "$2" "check-config $1"
}

cp "$okconf" "$T/unknown.conf"
echo "no_such_key = 1" >>"$T/unknown.conf"
L=$(wc -l <"$T/unknown.conf")
bad unknown "unknown key 'no_such_key'"

gw_config badvalue $P <<EOF
smtp_max_sessions = lots
EOF
L=$(line_of smtp_max_sessions "$T/badvalue.conf")
bad badvalue "smtp_max_sessions: 'lots' is not a number"

cp "$okconf" "$T/dup.conf"
echo "hostname = other.test" >>"$T/dup.conf"
L=$(wc -l <"$T/dup.conf")
bad dup "duplicate key 'hostname'"

gw_config nocert $P <<EOF
smtp_tls_cert_file = $T/missing.pem
EOF
L=$(line_of smtp_tls_cert_file "$T/nocert.conf")
bad nocert "cannot open '$T/missing.pem'"

echo "not a certificate" >"$T/garbage.pem"
gw_config garbage $P <<EOF
smtp_tls_cert_file = $T/garbage.pem
EOF
L=$(line_of smtp_tls_cert_file "$T/garbage.conf")
bad garbage "holds no PEM certificate"

# --- 3. serve refuses a bad config, and a port that is taken
rc=0
timeout 20 "$SG_BIN" -c "$T/unknown.conf" serve >/dev/null 2>"$T/err" || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] ||
    fail "serve with a bad config: exit $rc (124: still running after 20 s)"
ok "serve with a bad config: exit $rc"
L=$(wc -l <"$T/unknown.conf")
stderr_names "$T/unknown.conf" "$L" "unknown key" "serve with a bad config"
port_closed $P || fail "port $P is open after serve refused its config"
ok "serve with a bad config: nothing listens on $P"

# --- 4. migrate twice
sg ok migrate >"$T/m1" 2>&1 || fail "migrate: $(cat "$T/m1")"
out=$(sg ok migrate 2>&1) || fail "migrate (second run): $out"
case "$out" in
"migrate: 0 applied, schema at version "[0-9]*) ok "migrate twice: $(cat "$T/m1") / $out" ;;
*) fail "second migrate: got '$out', want 'migrate: 0 applied, schema at version N'" ;;
esac

# --- 5. the running gateway; as root its roles drop privileges
gw_config gw $P </dev/null
gw_start gw $P
gw_wait_ready gw
sup=$(gw_pid gw)
ing=$(role_pid gw ingress)
[ -n "$ing" ] || fail "no ingress role"
rc=0
timeout 20 "$SG_BIN" -c "$T/gw.conf" serve >"$T/taken.log" 2>&1 || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] ||
    fail "second serve on a taken port: exit $rc"
grep -q "event=bind_failed" "$T/taken.log" ||
    fail "second serve on a taken port: no event=bind_failed: $(cat "$T/taken.log")"
ok "serve on a port already in use: exit $rc, event=bind_failed"

if [ "$(id -u)" = 0 ]; then
	assert_eq "$(ps -o user= -p "$sup" | tr -d ' ')" root "supervisor runs as root"
	assert_eq "$(ps -o user= -p "$ing" | tr -d ' ')" sealgate "ingress role runs as sealgate"
	uid=$(id -u sealgate)
	gid=$(id -g sealgate)
	assert_eq "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$ing/status")" \
	    "$uid $uid $uid $uid" "ingress role: real, effective, saved and fs uid are sealgate's"
	assert_eq "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$ing/status")" \
	    "$gid $gid $gid $gid" "ingress role: every gid is sealgate's"
	assert_eq "$(awk '/^Groups:/ {$1 = ""; print}' "/proc/$ing/status" | tr -d ' ')" \
	    "$gid" "ingress role: no supplementary group but sealgate's"
	del=$(role_pid gw delivery)
	if [ -n "$del" ]; then
		assert_eq "$(ps -o user= -p "$del" | tr -d ' ')" sealgate "delivery role runs as sealgate"
	fi
else
	echo "skip - not root: privilege drop not tested"
fi

# --- 6. crash and restart with back-off
gw_config bo $((P + 1)) <<EOF
restart_backoff_max = 3s
EOF
gw_start bo $((P + 1))
gw_wait_ready bo
del=$(role_pid bo delivery)
cat >"$T/mail.smtp" <<EOF
< 220
> EHLO life.test
< 250
> MAIL FROM:<$TAG@life.test>
< 250
> RCPT TO:<r@example.com>
< 250
> DATA
< 354
> Subject: lifecycle
>
> hello
> .
< 250 2.0.0 Ok: queued as
> QUIT
< 221
EOF
k=1
for want in 1 2 3; do
	old=$(role_pid bo)
	[ -n "$old" ] || fail "no ingress role before kill $k"
	kill -KILL "$old"
	wait_log bo "event=role_died role=ingress pid=$old signal=9 restart_in=$want\$" 1 10 ||
	    fail "kill $k: no 'role_died ... pid=$old signal=9 restart_in=$want': $(grep role_died "$(gw_log bo)" | tail -1)"
	ok "kill $k of the ingress role ($old): event=role_died restart_in=$want"
	gw_wait_ready bo $((k + 1))
	new=$(role_pid bo)
	[ -n "$new" ] && [ "$new" != "$old" ] || fail "kill $k: new role pid '$new'"
	out=$(run_script $((P + 1)) "$T/mail.smtp")
	id=$(queued_id "$out")
	grep -q "ingress\[$new\] .*queue_id=$id event=queued" "$(gw_log bo)" ||
	    fail "kill $k: message $id not queued by the new role $new"
	ok "kill $k: new ingress role $new queued $id"
	k=$((k + 1))
done
python3 - "$(gw_log bo)" >"$T/delays" <<'EOF'
import datetime, re, sys
ev = []
for l in open(sys.argv[1]):
    m = re.match(r"(\S+)Z master\[\d+\] .*event=(role_died|role_started) "
                 r"role=ingress pid=\d+(?:.* restart_in=(\d+))?", l)
    if m:
        ev.append((datetime.datetime.fromisoformat(m.group(1)),
                   m.group(2), m.group(3)))
for i, (t, kind, want) in enumerate(ev):
    if kind == "role_died":
        nxt = [e for e in ev[i + 1:] if e[1] == "role_started"]
        if nxt:
            print(want, "%.3f" % (nxt[0][0] - t).total_seconds())
EOF
echo "restart_in and measured delay:" $(cat "$T/delays")
while read -r want took; do
	[ "$(echo "$took >= $want - 0.2 && $took <= $want + 2" | bc)" = 1 ] ||
	    fail "restart_in=$want, but the new role started after $took s"
done <"$T/delays"
assert_eq "$(wc -l <"$T/delays" | tr -d ' ')" 3 "three restarts measured"
ok "back-off: restarts waited $(awk '{printf "%s%s s", sep, $2; sep=", "}' "$T/delays") (1, 2, then capped at 3)"
if [ -n "$del" ]; then
	assert_eq "$(role_pid bo delivery)" "$del" "the delivery role was not touched by the ingress crashes"
fi
assert_eq "$(grep -c "event=role_died role=delivery" "$(gw_log bo)" || true)" 0 \
    "no other role died"
gw_stop bo

# --- 7. SIGTERM with an idle client
cat >"$T/idle.smtp" <<EOF
< 220
> EHLO idle.test
< 250
touch $T/idle
< 421 4.3.2
close?
EOF
script $P "$T/idle.smtp" >"$T/idle.out" 2>&1 &
idle_pid=$!
bg_track $idle_pid
i=0
while [ ! -e "$T/idle" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "idle client not connected: $(cat "$T/idle.out")"
	sleep 0.1
done
roles=$(pgrep -P "$sup" | tr '\n' ' ')
t0=$(date +%s.%N)
kill -TERM "$sup"
i=0
while kill -0 "$sup" 2>/dev/null && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
kill -0 "$sup" 2>/dev/null && fail "supervisor still running 5 s after SIGTERM"
took=$(echo "$(date +%s.%N) - $t0" | bc)
rc=0
wait "$sup" || rc=$?
assert_eq "$rc" 0 "supervisor exit status after SIGTERM (gone after ${took} s)"
wait $idle_pid || fail "idle client: $(cat "$T/idle.out")"
ok "the idle client got 421 4.3.2 and was disconnected"
port_closed $P || fail "port $P still open after the supervisor exited"
ok "port $P closed"
for r in $roles; do
	kill -0 "$r" 2>/dev/null && fail "role process $r outlived the supervisor"
done
ok "no role process left ($roles)"
grep -q "event=stopped" "$(gw_log gw)" || fail "no event=stopped logged"
ok "event=stopped logged"

if [ -n "$FORMAT_FAILS" ]; then
	fail "stderr must start with FILE:LINE: (check-config --help says \"print FILE:LINE: reason\"):$FORMAT_FAILS"
fi
