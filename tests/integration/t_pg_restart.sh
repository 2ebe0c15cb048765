#!/bin/sh
# t_pg_restart - PostgreSQL stops and starts under a running gateway.
#   - before: a message gets 250;
#   - PostgreSQL down: a message gets 451 4.3.0 at the end of DATA (after
#     the ingress tried to reconnect for a while), never 250, and is not
#     stored; the session stays usable, the gateway keeps running;
#   - PostgreSQL up again: within a few seconds a new message gets 250
#     from the SAME gateway processes (the DB connections reconnect); the
#     session that got the 451 retries on the same connection and gets
#     250; a session that stayed idle across the outage queues mail too;
#   - every acknowledged message is in the queue with its recipient, the
#     refused attempt is not.
# PostgreSQL is shared by the whole run: it is started again however this
# test ends.
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
TAG=pgr$$

pg_up() {
	"$SG_TOP/scripts/pg.sh" start "$SG_VAR" "$SG_PG_PORT" >/dev/null
}
on_exit() {
	rc=$?
	pg_up || { echo "t_pg_restart: cannot start PostgreSQL again" >&2; rc=1; }
	cleanup_gateways
	exit $rc
}
trap on_exit EXIT
trap 'exit 143' INT TERM

wait_file() {	# FILE SECONDS
	_wf_i=0
	while [ ! -e "$1" ]; do
		_wf_i=$((_wf_i + 1))
		[ $_wf_i -lt $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

# msg KEY - the DATA part of a transcript: one message with header
# X-Test-Key: KEY
msg() {
	cat <<EOF
> MAIL FROM:<$TAG@pgr.test>
< 250
> RCPT TO:<$1@example.com>
< 250
> DATA
< 354
> Subject: $1
> X-Test-Key: $1
>
> body of $1
> .
EOF
}

# stored KEY - how many queued messages carry X-Test-Key: KEY
stored() {
	echo "SELECT count(*) FROM messages WHERE mail_from = :'s' AND
	    position(convert_to(:'k', 'UTF8') IN data) > 0" |
	    psql_sg -v ON_ERROR_STOP=1 -v "s=$TAG@pgr.test" -v "k=X-Test-Key: $1"
}

gw_config gw $P </dev/null
gw_start gw $P
gw_wait_ready gw
sup=$(gw_pid gw)
role=$(role_pid gw)

# session A: one message now, then idle across the outage, one after it
{
	echo "< 220"
	echo "> EHLO a.pgr.test"
	echo "< 250"
	msg "$TAG-a1"
	echo "< 250 2.0.0 Ok: queued as"
	echo "touch $T/a1"
	echo "waitfile $T/pg_back 180"
	msg "$TAG-a2"
	echo "< 250 2.0.0 Ok: queued as"
	echo "> QUIT"
	echo "< 221"
} >"$T/a.smtp"
script $P "$T/a.smtp" >"$T/a.out" 2>&1 &
a_pid=$!
bg_track $a_pid
wait_file "$T/a1" 30 || fail "session A: no 250 before the outage: $(cat "$T/a.out")"
ok "session A: message queued before the outage; A stays connected"

{ echo "< 220"; echo "> EHLO pgr.test"; echo "< 250"; msg "$TAG-before"
  echo "< 250 2.0.0 Ok: queued as"; echo "> QUIT"; echo "< 221"; } >"$T/before.smtp"
run_script $P "$T/before.smtp" >/dev/null
ok "message queued before the outage"

"$SG_TOP/scripts/pg.sh" stop "$SG_VAR" >/dev/null || fail "pg.sh stop"
"$SG_TOP/scripts/pg.sh" status "$SG_VAR" >/dev/null 2>&1 &&
    fail "PostgreSQL still running after pg.sh stop"
ok "PostgreSQL stopped"

# session B: refused during the outage, retried on the same connection
{
	echo "< 220"
	echo "> EHLO b.pgr.test"
	echo "< 250"
	echo "time"
	msg "$TAG-b1"
	echo "< 451 4.3.0"
	echo "elapsed 451"
	echo "touch $T/b451"
	echo "waitfile $T/pg_back 180"
	msg "$TAG-b2"
	echo "< 250 2.0.0 Ok: queued as"
	echo "> QUIT"
	echo "< 221"
} >"$T/b.smtp"
script $P "$T/b.smtp" >"$T/b.out" 2>&1 &
b_pid=$!
bg_track $b_pid
wait_file "$T/b451" 60 || {
	kill $b_pid 2>/dev/null || true
	fail "session B: no 451 4.3.0 during the outage: $(cat "$T/b.out")"
}
ok "message during the outage: 451 4.3.0 after $(sed -n 's/^elapsed 451 //p' "$T/b.out") s, not 250"
assert_eq "$(gw_pid gw) $(role_pid gw)" "$sup $role" \
    "supervisor and ingress role survived the outage"

pg_up || fail "pg.sh start"
t_up=$(date +%s.%N)
ok "PostgreSQL started again"

# a new session on the same gateway: 250 within a few seconds
{ echo "< 220"; echo "> EHLO c.pgr.test"; echo "< 250"; msg "$TAG-after"
  echo "< 250 2.0.0 Ok: queued as"; echo "> QUIT"; echo "< 221"; } >"$T/after.smtp"
i=0
until out=$(script $P "$T/after.smtp" 2>&1); do
	i=$((i + 1))
	[ $i -lt 20 ] || fail "no 250 within 10 s of PostgreSQL's restart: $out"
	sleep 0.5
done
took=$(echo "$(date +%s.%N) - $t_up" | bc)
[ "$(echo "$took < 5" | bc)" = 1 ] ||
    fail "first 250 only $took s after PostgreSQL's restart, want < 5 s"
assert_eq "$(gw_pid gw) $(role_pid gw)" "$sup $role" \
    "250 ${took} s after the restart, from the same supervisor and ingress role"

touch "$T/pg_back"
wait $a_pid || fail "session A after the outage: $(cat "$T/a.out")"
ok "session A, idle across the outage, queues another message"
wait $b_pid || fail "session B after the outage: $(cat "$T/b.out")"
ok "session B retries the refused message on the same connection: 250"

for k in a1 before a2 after b2; do
	assert_eq "$(stored "$TAG-$k")" 1 "message $k acknowledged and queued once"
done
assert_eq "$(stored "$TAG-b1")" 0 "the message refused with 451 is not queued"
bad=$(echo "SELECT count(*) FROM messages m WHERE m.mail_from = :'s' AND
	(SELECT count(*) FROM recipients r WHERE r.message_id = m.id) <> 1" |
    psql_sg -v ON_ERROR_STOP=1 -v "s=$TAG@pgr.test")
assert_eq "$bad" 0 "every queued message has its recipient"
grep -q "event=queue_error transient=1" "$(gw_log gw)" ||
    grep -q "event=db_error" "$(gw_log gw)" ||
    fail "no queue_error/db_error logged for the outage"
ok "the outage is logged"
