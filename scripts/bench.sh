#!/bin/sh
# bench.sh - `make bench`: sealgate against a private Postfix relay.
#
# Starts a private PostgreSQL, sealgate, a baseline Postfix relay and a
# sink, then drives the same load (Postfix's smtp-source) through
# sealgate and through the baseline in turn, and prints one table of
# both figures and their ratio from this run.
#
#   load      smtp-source -s SESSIONS -m N -l SIZE -> relay (sealgate or
#             Postfix) -> sink; timed from the start until the sink has
#             received all N (after a warm-up through the same relay)
#   sink      a private Postfix on tmpfs whose smtpd accepts sink.test
#             over plaintext or STARTTLS (smtpd_tls_security_level =
#             may) and discards it. BENCH_SINK=proxy (default): smtpd
#             hands each message to a before-queue filter that is
#             Postfix's smtp-sink (smtpd_proxy_filter), so no queue file,
#             qmgr or discard(8) per message, and one "proxy-accept:
#             END-OF-MESSAGE: 250" line per arrival. BENCH_SINK=queue:
#             smtpd -> cleanup -> queue -> discard(8), one "status=sent"
#             line per arrival; it costs the shared 2 cores about twice
#             as much per message, which caps the measurable ratio (see
#             the "sink+smtp-source" row). Either way every TLS session
#             is one "TLS connection established" line, so the run
#             checks that the TLS cases were TLS end to end
#   baseline  a private Postfix relay (relayhost = the sink) with its
#             queue on the same disk as PostgreSQL: it fsyncs each queue
#             file before its 250, as sealgate commits before its 250
#   latency   one connection, one message at a time, from MAIL FROM
#             until the message is at a small timestamping sink
#             (scripts/bench/latency.py); both relays route lat.test
#             there
#   memory    growth of the ingress process's VmRSS with N idle
#             connections (after EHLO), on a freshly started gateway
#
# Cases: 4 KiB plaintext relay, 4 KiB over required TLS, 100 KiB over
# required TLS (the relays' delivery_tls_level / smtp_tls_security_level
# = encrypt), one connection's latency p50/p99, memory per idle
# connection. Targets: >= 2x Postfix's messages/s, p99 no worse than
# Postfix's, < 64 KiB per idle connection.
#
# Needs root (Postfix), Postfix with smtp-source, PostgreSQL, python3.
# Knobs (environment):
#   BENCH_MSGS=4000       messages per 4 KiB run
#   BENCH_MSGS_BIG=1500   messages per 100 KiB run
#   BENCH_WARMUP=300      warm-up messages before each run
#   BENCH_SESSIONS=20     smtp-source parallel sessions (-s)
#   BENCH_ROUNDS=2        runs per case and relay (alternating); the
#                         table shows the median
#   BENCH_LAT_MSGS=500    latency samples (plus 20 warm-up)
#   BENCH_IDLE_CONNS=1000 idle connections for the memory figure
#   BENCH_SG_WORKERS=20   sealgate delivery_workers
#   BENCH_SG_PER_DEST=20  sealgate delivery_per_destination (Postfix's
#                         default destination concurrency is 20)
#   BENCH_CASES="plain tls tls100k latency memory crypto"   what to run;
#                         crypto: PGP/S/MIME encryption in process vs the
#                         gpg/openssl command line (scripts/bench/crypto.sh)
#   BENCH_PERF=1          perf record -a -g (whole machine) during
#                         sealgate's timed runs; perf.CASE.data and a
#                         summary perf.CASE.txt (by command, postgres and
#                         sealgate functions) in BENCH_OUT (default
#                         /tmp/sealgate-bench)
#   BENCH_SINK=proxy      or queue: the sink's kind (above)
#   BENCH_QUIET_WAIT=10   before each timed run, wait up to this many
#                         seconds for the machine to be idle (the table
#                         warns when other jobs took CPU during a run)
#   BENCH_PORT_BASE=47100 ports BASE..BASE+4 and BASE+39 (PostgreSQL)
#   BENCH_STRICT=1        exit 3 when a target is missed (default: the
#                         table says so and the exit status is 0)
#   BENCH_KEEP=1          keep the temporary directories
#   BENCH_HOLD=1          after the runs, leave everything up (ports and
#                         directories printed) until interrupted
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd -P)
BUILD=${BUILD:-build}
SG_BIN=$TOP/$BUILD/sealgate
HELP=$TOP/scripts/bench

N=${BENCH_MSGS:-4000}
N_BIG=${BENCH_MSGS_BIG:-1500}
WARM=${BENCH_WARMUP:-300}
SESS=${BENCH_SESSIONS:-20}
ROUNDS=${BENCH_ROUNDS:-2}
LAT_N=${BENCH_LAT_MSGS:-500}
IDLE_N=${BENCH_IDLE_CONNS:-1000}
SG_WORKERS=${BENCH_SG_WORKERS:-20}
SG_PER_DEST=${BENCH_SG_PER_DEST:-20}
CASES=${BENCH_CASES:-plain tls tls100k latency memory crypto}
PERF=${BENCH_PERF:-0}
OUT=${BENCH_OUT:-/tmp/sealgate-bench}
BASE=${BENCH_PORT_BASE:-47100}
SINK_KIND=${BENCH_SINK:-proxy}
QUIET_WAIT=${BENCH_QUIET_WAIT:-10}
KEEP=${BENCH_KEEP:-0}
HOLD=${BENCH_HOLD:-0}

SG_PORT=$BASE
PF_PORT=$((BASE + 1))
SINK_PORT=$((BASE + 2))
LAT_PORT=$((BASE + 3))
PROXY_PORT=$((BASE + 4))
PG_PORT=$((BASE + 39))

say() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	printf 'bench: FAILED: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (the private Postfix instances need it)"
for c in postfix postconf smtp-source python3 openssl; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (make deps)"
done
[ -x "$SG_BIN" ] || die "$SG_BIN not built (make all)"
[ -f /etc/postfix/master.cf ] || die "/etc/postfix/master.cf missing (the private instances copy it)"
[ "$PERF" = 0 ] || command -v perf >/dev/null 2>&1 || die "perf not found"
case $SINK_KIND in
proxy) ARRIVAL='proxy-accept: END-OF-MESSAGE: 250' ;;
queue) ARRIVAL=' status=sent ' ;;
*) die "BENCH_SINK must be proxy or queue" ;;
esac
for p in $SG_PORT $PF_PORT $SINK_PORT $LAT_PORT $PROXY_PORT; do
	if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$p" 2>/dev/null; then
		die "port $p is in use (set BENCH_PORT_BASE)"
	fi
done

# short path: the PostgreSQL socket path must stay under 108 bytes; on
# the real disk (the durability being compared is an fsync to disk)
TMP=$(mktemp -d /tmp/sgb.XXXXXX)
chmod 755 "$TMP"
# the sink is not under test: its queue lives in memory
SHM=$(mktemp -d /dev/shm/sgb.XXXXXX)
chmod 755 "$SHM"
VAR=$TMP/var
PF=$TMP/pf
SINK=$SHM/sink
SG_CONF=$TMP/sealgate.conf
SG_LOG=$TMP/sealgate.log
RES=$TMP/results
mkdir -p "$VAR"
: > "$RES"

SG_PID=""
PG_STARTED=0
PF_STARTED=""
BG=""

cleanup() {
	rc=$?
	set +e
	for p in $BG; do
		kill -TERM "$p" 2>/dev/null
	done
	sg_stop
	for d in $PF_STARTED; do
		postfix -c "$d" stop >/dev/null 2>&1
	done
	# postfix stop returns before the master has gone
	for d in $PF_STARTED; do
		i=0
		while [ -f "$d/q/pid/master.pid" ] &&
		    kill -0 "$(cat "$d/q/pid/master.pid" 2>/dev/null)" 2>/dev/null; do
			i=$((i + 1))
			[ $i -lt 100 ] || break
			sleep 0.1
		done
	done
	[ "$PG_STARTED" = 0 ] || "$TOP/scripts/pg.sh" stop "$VAR" >/dev/null 2>&1
	if [ "$KEEP" = 1 ]; then
		say "kept: $TMP (sealgate.log, pf/maillog), $SINK/maillog"
	else
		[ $rc = 0 ] || { mkdir -p "$OUT"; cp "$SG_LOG" "$PF/maillog" "$OUT/" 2>/dev/null; }
		rm -rf "$TMP" "$SHM"
		[ $rc = 0 ] || say "logs copied to $OUT"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_port() {	# PORT SECONDS
	i=0
	while ! python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

# --- certificate (sink STARTTLS, sealgate's ingress) ---

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 30 -subj "/CN=sink.test" -addext "subjectAltName=DNS:sink.test" \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
chmod 644 "$TMP/key.pem" "$TMP/cert.pem"

# --- private Postfix instances ---

# pf_init DIR PORT - main.cf basics and master.cf with smtpd on PORT.
# chroot is off (Postfix's upstream default; Debian turns it on, and a
# private queue directory has no etc/ to chroot into).
pf_init() {
	mkdir -p "$1/data" "$1/q"
	chown postfix "$1/data"
	awk -v addr="127.0.0.1:$2" '
	    /^smtp[ \t]+inet[ \t]/ { $1 = addr }
	    /^[a-z]/ && NF >= 8 && $5 == "y" { $5 = "n" }
	    { print }' /etc/postfix/master.cf > "$1/master.cf"
	cat > "$1/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $1/q
data_directory = $1/data
myhostname = $3
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = $1/maillog
maillog_file_prefixes = $1
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_peername_lookup = no
EOF
}

pf_start() {	# DIR PORT
	postfix -c "$1" start >"$1/start.log" 2>&1 ||
	    { cat "$1/start.log" >&2; die "postfix -c $1 start"; }
	PF_STARTED="$PF_STARTED $1"
	wait_port "$2" 15 || die "postfix $1 did not open port $2 (see $1/maillog)"
}

# The sink: discards everything for sink.test, STARTTLS offered; its
# flow control off so that it never paces the relay under test.
pf_init "$SINK" "$SINK_PORT" sink.test
cat >> "$SINK/main.cf" <<EOF
relay_domains = sink.test
relay_transport = discard:
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_tls_security_level = may
smtpd_tls_cert_file = $TMP/cert.pem
smtpd_tls_key_file = $TMP/key.pem
smtpd_tls_loglevel = 1
in_flow_delay = 0
EOF
SINK_PIDS=""
if [ "$SINK_KIND" = proxy ]; then
	echo "smtpd_proxy_filter = 127.0.0.1:$PROXY_PORT" >> "$SINK/main.cf"
	smtp-sink -u postfix "127.0.0.1:$PROXY_PORT" 256 \
	    >"$SHM/smtp-sink.log" 2>&1 &
	BG="$BG $!"
	SINK_PIDS=",$!"
	wait_port "$PROXY_PORT" 10 || die "smtp-sink did not start"
fi
pf_start "$SINK" "$SINK_PORT"
SINK_MASTER=$(sed -n 's/^ *\([0-9]*\).*/\1/p' "$SINK/q/pid/master.pid")
SINK_PIDS=$SINK_MASTER$SINK_PIDS

# The baseline relay: everything to the sink, lat.test to the latency
# sink; TLS level set per case. Postfix's queue-file fsync is on by
# default: 250 after the queue file is on disk.
pf_init "$PF" "$PF_PORT" relay.bench.test
cat >> "$PF/main.cf" <<EOF
relayhost = [127.0.0.1]:$SINK_PORT
transport_maps = inline:{ lat.test=smtp:[127.0.0.1]:$LAT_PORT }
smtp_tls_security_level = none
EOF
pf_start "$PF" "$PF_PORT"
PF_MASTER=$(sed -n 's/^ *\([0-9]*\).*/\1/p' "$PF/q/pid/master.pid")

pf_tls() {	# LEVEL
	postconf -c "$PF" -e "smtp_tls_security_level = $1"
	postfix -c "$PF" reload >/dev/null 2>&1
	sleep 1
}

# --- PostgreSQL and sealgate ---

"$TOP/scripts/pg.sh" start "$VAR" "$PG_PORT" >/dev/null || die "PostgreSQL did not start"
PG_STARTED=1
PG_MASTER=$(head -1 "$VAR/pg/data/postmaster.pid")

sg_config() {	# TLS_LEVEL
	cat > "$SG_CONF" <<EOF
hostname = relay.bench.test
state_dir = $VAR
embedded_db_port = $PG_PORT
user = sealgate
smtp_listen = 127.0.0.1:$SG_PORT
smtp_tls_cert_file = $TMP/cert.pem
smtp_tls_key_file = $TMP/key.pem
relay_networks = 127.0.0.0/8
smtp_max_sessions = $((IDLE_N + 100))
smtp_max_sessions_per_client = $((IDLE_N + 100))
routes = sink.test=[127.0.0.1]:$SINK_PORT, lat.test=[127.0.0.1]:$LAT_PORT
delivery_tls_level = $1
delivery_workers = $SG_WORKERS
delivery_per_destination = $SG_PER_DEST
log_level = warn
EOF
	"$SG_BIN" -c "$SG_CONF" check-config >/dev/null || die "bad sealgate config"
}

sg_start() {
	"$SG_BIN" -c "$SG_CONF" serve >>"$SG_LOG" 2>&1 &
	SG_PID=$!
	wait_port "$SG_PORT" 30 || die "sealgate did not open port $SG_PORT (log: $SG_LOG)"
	# the roles: ingress and delivery
	i=0
	while [ "$(pgrep -P "$SG_PID" | wc -l)" -lt 2 ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || die "sealgate roles did not start (log: $SG_LOG)"
		sleep 0.1
	done
	sleep 0.5
}

sg_stop() {
	[ -n "$SG_PID" ] || return 0
	kill -TERM "$SG_PID" 2>/dev/null || true
	i=0
	while kill -0 "$SG_PID" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 300 ] || { kill -KILL "$SG_PID" 2>/dev/null; break; }
		sleep 0.1
	done
	wait "$SG_PID" 2>/dev/null || true
	SG_PID=""
}

sg_roles() {	# comma-separated pids of sealgate's role processes
	pgrep -P "$SG_PID" | paste -sd, -
}

# --- runs ---

kv() {	# KEY LINE - the value of KEY=... in LINE
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# one_run WHO PORT COUNT SIZE - warm-up, then a timed run; prints load.py's line
one_run() {
	_who=$1 _port=$2 _n=$3 _size=$4
	if [ "$WARM" -gt 0 ]; then
		python3 "$HELP/load.py" --maillog "$SINK/maillog" --n "$WARM" \
		    --arrival "$ARRIVAL" --timeout 120 -- smtp-source -s "$SESS" -m "$WARM" \
		    -l "$_size" -f bench@example.org -t warm@sink.test \
		    "127.0.0.1:$_port" >/dev/null ||
		    die "$_who: warm-up did not reach the sink"
	fi
	if [ "$_who" = sealgate ]; then
		_cpu="--cpu relay=$SG_PID --cpu db=$PG_MASTER --cpu sink=$SINK_PIDS"
		_perf_start
	else
		_cpu="--cpu relay=$PF_MASTER --cpu sink=$SINK_PIDS"
	fi
	_line=$(python3 "$HELP/load.py" --maillog "$SINK/maillog" --n "$_n" \
	    --arrival "$ARRIVAL" --quiet-wait "$QUIET_WAIT" --timeout 300 \
	    $_cpu -- smtp-source -s "$SESS" -m "$_n" \
	    -l "$_size" -f bench@example.org -t sink@sink.test \
	    "127.0.0.1:$_port") || die "$_who: run did not complete: $_line"
	[ "$_who" = sealgate ] && _perf_stop
	printf '%s\n' "$_line"
}

PERF_PID=""
PERF_CASE=""
_perf_start() {
	[ "$PERF" = 1 ] || return 0
	mkdir -p "$OUT"
	# the whole machine: most of sealgate's cost is in its PostgreSQL
	perf record -q -a -g -F 499 -o "$OUT/perf.$PERF_CASE.data" \
	    >/dev/null 2>&1 &
	PERF_PID=$!
	sleep 0.3
}
_perf_stop() {
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null || true
	PERF_PID=""
	_pd=$OUT/perf.$PERF_CASE.data
	# this run's processes only: other jobs may run postgres too
	_pg=$(pgrep -P "$PG_MASTER" | paste -sd, -)
	{
		echo "== CPU by command"
		perf report -i "$_pd" --no-children --sort comm --stdio \
		    -g none --percent-limit 0.5 2>/dev/null | grep -v '^#'
		echo "== this run's postgres: inclusive time by function (% of it)"
		perf report -i "$_pd" --children --pid "$_pg" \
		    --percentage relative --sort sym --stdio -g none \
		    --percent-limit 2 2>/dev/null | grep -v '^#'
		echo "== sealgate's roles: self time by function (% of them)"
		perf report -i "$_pd" --no-children --pid "$(sg_roles)" \
		    --percentage relative --sort dso,sym --stdio -g none \
		    --percent-limit 1 2>/dev/null | grep -v '^#'
	} >"$OUT/perf.$PERF_CASE.txt"
	say "perf profile: $OUT/perf.$PERF_CASE.txt"
}

# tput_case NAME LABEL COUNT SIZE WANT_TLS(0/1)
tput_case() {
	PERF_CASE=$1
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		r=$((r + 1))
		for who in sealgate postfix; do
			if [ $who = sealgate ]; then port=$SG_PORT; else port=$PF_PORT; fi
			line=$(one_run $who "$port" "$3" "$4")
			say "$1 $who round $r: $line"
			conns=$(kv conns "$line")
			tls=$(kv tls_conns "$line")
			if [ "$5" = 1 ] && [ "$tls" != "$conns" ]; then
				die "$1 $who: $tls of $conns sink connections used TLS"
			fi
			if [ "$5" = 0 ] && [ "$tls" != 0 ]; then
				die "$1 $who: $tls sink connections used TLS in the plaintext case"
			fi
			printf '%s\t%s\t%s\t%s\n' "$1" "$who" "$2" "$line" >>"$RES"
		done
	done
}

lat_case() {
	for who in sealgate postfix; do
		if [ $who = sealgate ]; then port=$SG_PORT; else port=$PF_PORT; fi
		line=$(python3 "$HELP/latency.py" --relay-port "$port" \
		    --sink-port "$LAT_PORT" --n "$LAT_N" --warmup 20) ||
		    die "latency $who failed"
		say "latency $who: $line"
		printf '%s\t%s\t%s\t%s\n' latency "$who" "latency" "$line" >>"$RES"
	done
}

has() {
	case " $CASES " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

T0=$(date +%s)
say "$($SG_BIN version 2>/dev/null | head -1); $(postconf -d -h mail_version | sed 's/^/postfix /'); $(nproc) cores"
say "load: smtp-source -s $SESS, $N x 4 KiB, $N_BIG x 100 KiB, warm-up $WARM; temp $TMP"

# plaintext phase: memory first, on a fresh ingress
sg_config none
sg_start
if has memory; then
	line=$(python3 "$HELP/idle.py" --port "$SG_PORT" --n "$IDLE_N" \
	    --pids "$(sg_roles)") || die "idle connections"
	say "memory: $line"
	printf '%s\t%s\t%s\t%s\n' memory sealgate memory "$line" >>"$RES"
fi
has plain && tput_case plain "4 KiB plaintext relay (msg/s)" "$N" 4096 0
has latency && lat_case

# required-TLS phase
if has tls || has tls100k; then
	sg_stop
	sg_config encrypt
	sg_start
	pf_tls encrypt
	has tls && tput_case tls "4 KiB over required TLS (msg/s)" "$N" 4096 1
	has tls100k && tput_case tls100k "100 KiB over required TLS (msg/s)" "$N_BIG" 102400 1
fi
if has crypto; then
	BUILD=$BUILD "$HELP/crypto.sh" "$TMP/crypto" >"$TMP/crypto.table" ||
	    die "crypto benchmark (scripts/bench/crypto.sh)"
fi

echo
echo "sealgate vs Postfix $(postconf -d -h mail_version), $(nproc) cores, same run;" \
    "smtp-source -s $SESS; $N x 4 KiB, $N_BIG x 100 KiB per run;" \
    "median of $ROUNDS; sink: $SINK_KIND;" \
    "sealgate delivery_workers=$SG_WORKERS delivery_per_destination=$SG_PER_DEST"
missed=0
python3 "$HELP/report.py" "$RES" || missed=1
if has crypto; then cat "$TMP/crypto.table"; fi
if [ "$HOLD" = 1 ]; then
	say "holding: sealgate pid $SG_PID port $SG_PORT conf $SG_CONF; postfix -c $PF port $PF_PORT; sink -c $SINK port $SINK_PORT; psql -h $VAR/pg/sock -p $PG_PORT -U sealgate sealgate; Ctrl-C ends"
	while :; do sleep 1; done
fi
say "done in $(($(date +%s) - T0)) s"
[ "$missed" = 0 ] || [ "${BENCH_STRICT:-0}" != 1 ] || exit 3
