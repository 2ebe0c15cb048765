#!/bin/sh
# t_crash - kill -9 of the ingress role under load loses no acknowledged
# message and stores none partially.
#
# Two loads at once: smtp-source (1000 messages, 100 sessions, one message
# a second per session: about 10 s; it gives up on a lost connection, so
# it is started again for whatever is not queued yet) and loadgen.py (20
# connections sending as fast as they can for 4 s, so that commits are in
# flight when the kill comes; each message has a unique X-Loadgen-Key
# header, the queue id of its 250 is recorded, and it is retried until
# acknowledged). After 1 s the ingress role gets SIGKILL. Then:
#   - the supervisor logs event=role_died and starts a new role (new pid)
#     that accepts new connections;
#   - every queue id loadgen got a 250 for is in the queue exactly once and
#     its stored bytes hold that message's key;
#   - a key is in the queue more than once only as often as its 250 was
#     lost in the kill (at-least-once, README "Delivery guarantee");
#   - no message is stored partially: every row has all its recipients.
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
TAG=crash$$
SRC=src-$TAG@source.test
N_SRC=1000

gw_config gw $P <<EOF
smtp_max_sessions_per_client = 1000
EOF
gw_start gw $P
gw_wait_ready gw
since=$(psql_sg -c "SELECT clock_timestamp()")
sup=$(gw_pid gw)
old=$(role_pid gw)
[ -n "$old" ] || fail "no ingress role under supervisor $sup"

# load 1: smtp-source; run again (at most 5 times) until N_SRC are queued
(
	runs=0
	while [ $runs -lt 5 ]; do
		left=$((N_SRC - $(count_from "$SRC")))
		[ $left -gt 0 ] || break
		runs=$((runs + 1))
		rc=0
		/usr/sbin/smtp-source -d -s 100 -w 1 -m $left -r 2 \
		    -M source.test -f "$SRC" -t rcpt@example.com \
		    127.0.0.1:$P >>"$T/smtp-source.out" 2>&1 || rc=$?
		echo "smtp-source run $runs: $left messages, exit $rc" \
		    >>"$T/smtp-source.runs"
	done
) &
src_pid=$!
bg_track $src_pid

# load 2: loadgen, 20 connections, new messages for 4 s
python3 "$SG_TOP/tests/integration/loadgen.py" send 127.0.0.1 $P \
    --out "$T/loadgen.json" --tag "$TAG" --conns 20 --duration 4 \
    --rcpts 2 --deadline 120 >"$T/loadgen.out" 2>&1 &
gen_pid=$!
bg_track $gen_pid

sleep 1
t_kill=$(date +%s.%N)
kill -KILL "$old"
ok "ingress role $old killed with SIGKILL under load"

wait_log gw "event=role_died role=ingress pid=$old signal=9" 1 10 ||
    fail "no event=role_died for pid $old"
ok "supervisor logged event=role_died for $old"
gw_wait_ready gw 2
t_ready=$(date +%s.%N)
new=$(role_pid gw)
[ -n "$new" ] && [ "$new" != "$old" ] ||
    fail "role pid after restart: got '$new', old was $old"
kill -0 "$sup" || fail "supervisor $sup died"
ok "new ingress role $new (supervisor $sup still running), ready $(echo "$t_ready - $t_kill" | bc) s after the kill"

cat >"$T/probe.smtp" <<EOF
< 220
> EHLO probe.test
< 250
> MAIL FROM:<probe-$TAG@probe.test>
< 250
> RCPT TO:<probe@example.com>
< 250
> DATA
< 354
> Subject: after the restart
>
> hello
> .
< 250 2.0.0 Ok: queued as
> QUIT
< 221
EOF
out=$(run_script $P "$T/probe.smtp")
pid=$(queued_id "$out")
assert_eq "$(psql_sg -c "SELECT count(*) FROM recipients WHERE message_id = '$pid'")" 1 \
    "the restarted role accepts a new connection and queues its message"

wait $gen_pid || fail "loadgen send failed: $(cat "$T/loadgen.out")"
cat "$T/loadgen.out"
wait $src_pid || true
cat "$T/smtp-source.runs"

# the kill must have hit sessions, or this test tested nothing
python3 - "$T/loadgen.json" <<'EOF' || fail "loadgen saw no broken connection"
import json, sys
e = json.load(open(sys.argv[1]))["errors"]
n = sum(v for k, v in e.items() if k.startswith("conn_"))
print("loadgen connections broken by the kill: %d" % n)
sys.exit(0 if n > 0 else 1)
EOF
grep -q "exit [1-9]" "$T/smtp-source.runs" ||
    fail "smtp-source never saw its connections broken"
ok "the kill broke sessions of both loads"

echo "SELECT m.id,
	coalesce(substring(encode(m.data, 'escape')
	    FROM 'X-Loadgen-Key: ([A-Za-z0-9-]+)'), '-'),
	(SELECT count(*) FROM recipients r WHERE r.message_id = m.id)
    FROM messages m WHERE m.mail_from = :'s'" |
    psql_sg -v ON_ERROR_STOP=1 -F ' ' -v "s=loadgen-$TAG@loadgen.test" \
    >"$T/db.txt"
python3 "$SG_TOP/tests/integration/loadgen.py" verify "$T/loadgen.json" \
    "$T/db.txt" || fail "loadgen messages vs. the queue"
ok "every acknowledged loadgen message is queued once, duplicates only for lost 250s"

n_src=$(count_from "$SRC")
[ "$n_src" -ge $N_SRC ] || fail "smtp-source: $n_src of $N_SRC queued"
bad=$(echo "SELECT count(*) FROM messages m WHERE m.mail_from = :'s' AND
	(SELECT count(*) FROM recipients r WHERE r.message_id = m.id) <> 2" |
    psql_sg -v ON_ERROR_STOP=1 -v "s=$SRC")
assert_eq "$bad" 0 "smtp-source: $n_src messages queued (>= $N_SRC, extra ones: lost 250s), each with both recipients"

bad=$(echo "SELECT count(*) FROM messages m WHERE m.received_at >= :'t'
	AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id)" |
    psql_sg -v ON_ERROR_STOP=1 -v "t=$since")
assert_eq "$bad" 0 "no message row without recipients (nothing stored partially)"
echo "summary: role killed at +1 s, new role ready after $(echo "$t_ready - $t_kill" | bc) s; smtp-source queued $n_src for $N_SRC; $(grep -c . "$T/smtp-source.runs") smtp-source runs"
