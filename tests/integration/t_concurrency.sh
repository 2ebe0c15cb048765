#!/bin/sh
# t_concurrency - many sessions at once on one epoll loop, and the session
# limits.
#   1. N (default 500, SG_CONC_N) sessions open at the same time, every
#      greeting read; while they are all connected and idle the ingress
#      role has at most 1 + ingress_db_workers threads, the gateway no
#      more processes than before (no thread or process per connection),
#      and the role holds a socket for each; then all of them at once send EHLO, a message and QUIT:
#      every one gets 250 (its message queued with its recipient) and 221.
#   2. smtp_max_sessions_per_client = 5: five sessions from 127.0.0.1
#      work, the sixth gets "421 4.7.0" and is closed while the five still
#      queue mail; once they are gone a new one is welcome again.
#   3. smtp_max_sessions = 10: likewise, "421 4.7.0 Server busy".
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
N=${SG_CONC_N:-500}
WORKERS=4
LOADGEN=$SG_TOP/tests/integration/loadgen.py
[ "$(ulimit -n)" -ge $((N + 512)) ] || ulimit -n $((N + 512)) ||
    fail "cannot raise the open file limit to $((N + 512))"

wait_file() {	# FILE SECONDS
	_wf_i=0
	while [ ! -s "$1" ]; do
		_wf_i=$((_wf_i + 1))
		[ $_wf_i -lt $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

descendants() {	# PID - how many processes descend from PID
	ps -e -o pid=,ppid= | awk -v top="$1" '
	    { pp[$1] = $2 }
	    END { for (p in pp) { q = p; while (q in pp && q != top) q = pp[q];
		if (q == top && p != top) n++ } print n + 0 }'
}

# hold_start NAME PORT N - N sessions open and greeted, in the background
hold_start() {
	rm -f "$T/$1.ready" "$T/$1.go"
	python3 "$LOADGEN" hold 127.0.0.1 "$2" --n "$3" --ready "$T/$1.ready" \
	    --go "$T/$1.go" --out "$T/$1.json" --tag "$1$$" \
	    >"$T/$1.out" 2>&1 &
	HOLD_PID=$!
	bg_track $HOLD_PID
	wait_file "$T/$1.ready" 120 ||
	    fail "$1: $3 sessions not open after 120 s: $(cat "$T/$1.out")"
	read -r _h_open _h_greeted <"$T/$1.ready"
	assert_eq "$_h_greeted" "$3" "$1: $3 concurrent sessions open and greeted"
}

# hold_finish NAME N - let them send their message; all N must get 250
hold_finish() {
	touch "$T/$1.go"
	wait $HOLD_PID || fail "$1: $(cat "$T/$1.out")"
	cat "$T/$1.out"
	assert_eq "$(count_from "loadgen-$1$$@loadgen.test")" "$2" \
	    "$1: $2 messages queued, one per session"
}

# --- 1. N concurrent sessions
LIMIT=$((N > 1000 ? N : 1000))
gw_config big $P <<EOF
smtp_max_sessions_per_client = $LIMIT
smtp_max_sessions = $LIMIT
ingress_db_workers = $WORKERS
EOF
gw_start big $P
gw_wait_ready big
sup=$(gw_pid big)
role=$(role_pid big)

procs0=$(descendants "$sup")
hold_start big $P $N
threads=$(ps -o nlwp= -p "$role" | tr -d ' ')
[ -n "$threads" ] && [ "$threads" -le $((1 + WORKERS)) ] ||
    fail "ingress role has '$threads' threads with $N idle sessions, want <= $((1 + WORKERS))"
ok "ingress role: $threads threads with $N idle sessions (<= 1 + ingress_db_workers = $((1 + WORKERS)))"
kids=$(pgrep -P "$role" | wc -l)
assert_eq "$kids" 0 "ingress role has no child process"
assert_eq "$(descendants "$sup")" "$procs0" "the gateway has as many processes as before the $N sessions ($procs0 under the supervisor)"
est=$(ss -Htn state established "( sport = :$P )" | wc -l)
[ "$est" -ge "$N" ] || fail "$est established server-side connections, want >= $N"
fds=$(ls "/proc/$role/fd" | wc -l)
[ "$fds" -ge "$N" ] || fail "ingress role has $fds open files, want >= $N"
ok "$est established connections, the ingress role holds $fds descriptors"

# thread count while all N are busy, sampled until they are done
(
	max=0
	while [ ! -f "$T/big.json" ]; do
		n=$(ps -o nlwp= -p "$role" | tr -d ' ')
		[ -n "$n" ] && [ "$n" -gt $max ] && max=$n
		sleep 0.05
	done
	echo $max >"$T/busy_threads"
) &
sampler=$!
hold_finish big $N
wait $sampler
busy=$(cat "$T/busy_threads")
[ "$busy" -le $((1 + WORKERS)) ] ||
    fail "ingress role had $busy threads while $N sessions sent mail"
ok "ingress role: at most $busy threads while $N sessions sent mail"
bad=$(echo "SELECT count(*) FROM messages m WHERE m.mail_from = :'s' AND
	(SELECT count(*) FROM recipients r WHERE r.message_id = m.id) <> 1" |
    psql_sg -v ON_ERROR_STOP=1 -v "s=loadgen-big$$@loadgen.test")
assert_eq "$bad" 0 "every message of the $N sessions has its recipient"
gw_stop big

# --- 2. per-client limit
cat >"$T/refused.smtp" <<'EOF'
< 421 4.7.0
<+ Too many connections
close?
EOF
cat >"$T/busy.smtp" <<'EOF'
< 421 4.7.0 Server busy
close?
EOF
cat >"$T/welcome.smtp" <<'EOF'
< 220
> QUIT
< 221
EOF
gw_config pc $((P + 1)) <<EOF
smtp_max_sessions_per_client = 5
EOF
gw_start pc $((P + 1))
gw_wait_ready pc
hold_start pc $((P + 1)) 5
run_script $((P + 1)) "$T/refused.smtp" >/dev/null
ok "6th session from 127.0.0.1: 421 4.7.0 and closed"
hold_finish pc 5
run_script $((P + 1)) "$T/welcome.smtp" >/dev/null
ok "after the five left, a new session is welcome"
gw_stop pc

# --- 3. limit on all sessions
gw_config ms $((P + 2)) <<EOF
smtp_max_sessions = 10
EOF
gw_start ms $((P + 2))
gw_wait_ready ms
hold_start ms $((P + 2)) 10
run_script $((P + 2)) "$T/busy.smtp" >/dev/null
ok "11th session: 421 4.7.0 Server busy and closed"
hold_finish ms 10
run_script $((P + 2)) "$T/welcome.smtp" >/dev/null
ok "after the ten left, a new session is welcome"
echo "summary: $N concurrent sessions, ingress threads idle $threads / busy max $busy (limit $((1 + WORKERS)))"
