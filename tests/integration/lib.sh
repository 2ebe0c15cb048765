# lib.sh - helpers for integration tests (sourced). Provided by run-all.sh:
# SG_BIN, SG_TOP, SG_TMP, SG_VAR, SG_PG_PORT, SG_PORT_BASE, SG_TEST.
set -eu

T=$SG_TMP/$SG_TEST
mkdir -p "$T"

# Each test has a database of its own on the run's PostgreSQL: one
# test's queue is never delivered by another test's gateway.
SG_DB=$(echo "sg_$SG_TEST" | tr -c 'a-z0-9_\n' '_')
psql -X -q -h "$SG_VAR/pg/sock" -p "$SG_PG_PORT" -U postgres postgres \
    -c "DROP DATABASE IF EXISTS $SG_DB" -c "CREATE DATABASE $SG_DB OWNER sealgate" \
    >/dev/null || { echo "FAIL: cannot create database $SG_DB" >&2; exit 1; }
SG_CONNINFO="host=$SG_VAR/pg/sock port=$SG_PG_PORT dbname=$SG_DB user=sealgate"
GW_PIDS=""

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

ok() {
	printf 'ok - %s\n' "$*"
}

# fail_later MESSAGE - report a failure but go on with the test, which
# then fails at exit: for checks that must not hide the ones after them
# (call it from the test's own shell, not from $(...) or a pipeline)
LATER_FAILS=0
fail_later() {
	printf 'FAIL: %s\n' "$*" >&2
	LATER_FAILS=$((LATER_FAILS + 1))
}

assert_eq() {	# got want what
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
	ok "$3"
}

assert_contains() {	# haystack needle what
	case "$1" in
	*"$2"*) ok "$3" ;;
	*) fail "$3: '$2' not found in: $1" ;;
	esac
}

assert_not_contains() {
	case "$1" in
	*"$2"*) fail "$3: '$2' unexpectedly found in: $1" ;;
	*) ok "$3" ;;
	esac
}

# gw_config NAME PORT [key = value lines on stdin] - write NAME's config
gw_config() {
	conf=$T/$1.conf
	{
		echo "hostname = mx.test"
		echo "state_dir = $SG_VAR"
		echo "embedded_db_port = $SG_PG_PORT"
		echo "database = $SG_CONNINFO"
		[ "$(id -u)" = 0 ] && echo "user = sealgate"
		echo "smtp_listen = 127.0.0.1:$2"
		echo "smtp_tls_cert_file = $SG_TMP/cert.pem"
		echo "smtp_tls_key_file = $SG_TMP/key.pem"
		echo "relay_networks = 127.0.0.0/8"
		echo "log_level = info"
		# mail stays queued unless a test delivers (roles = ingress delivery)
		echo "roles = ingress"
		cat
	} > "$conf.tmp"
	# later keys override earlier ones (the config refuses duplicates)
	awk -F'=' '{k=$1; gsub(/[ \t]/, "", k); v[k]=$0; if (!(k in o)) {o[k]=++n; ord[n]=k}}
	    END {for (i = 1; i <= n; i++) print v[ord[i]]}' "$conf.tmp" > "$conf"
	rm -f "$conf.tmp"
}

wait_port() {	# PORT [seconds]
	i=0
	while ! python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt $((${2:-10} * 10)) ] || return 1
		sleep 0.1
	done
}

# gw_start NAME PORT - start `sealgate serve` with NAME's config
gw_start() {
	"$SG_BIN" -c "$T/$1.conf" serve >>"$SG_TMP/$SG_TEST.$1.log" 2>&1 &
	eval "GW_PID_$1=$!"
	GW_PIDS="$GW_PIDS $!"
	wait_port "$2" 15 || fail "gateway $1 did not open port $2"
}

gw_pid() {
	eval "echo \$GW_PID_$1"
}

gw_stop() {	# NAME
	pid=$(gw_pid "$1")
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 300 ] || { kill -KILL "$pid"; break; }
		sleep 0.1
	done
	wait "$pid" 2>/dev/null || true
}

# role_pid NAME [ROLE] - pid of NAME's live ROLE process (default ingress):
# the newest event=role_started for ROLE in NAME's log, if that process is
# a child of NAME's supervisor and not a zombie; empty otherwise
role_pid() {
	_rp_pid=$(sed -n "s/.* event=role_started role=${2:-ingress} pid=\([0-9]*\).*/\1/p" \
	    "$SG_TMP/$SG_TEST.$1.log" 2>/dev/null | tail -1)
	[ -n "$_rp_pid" ] || return 0
	_rp_sup=$(gw_pid "$1")
	_rp_st=$(ps -o ppid=,stat= -p "$_rp_pid" 2>/dev/null || true)
	case "$_rp_st" in
	*Z*) ;;
	*)
		set -- $_rp_st
		[ "${1:-}" != "$_rp_sup" ] || echo "$_rp_pid" ;;
	esac
}

# gw_log NAME - the path of gateway NAME's log (supervisor and roles)
gw_log() {
	echo "$SG_TMP/$SG_TEST.$1.log"
}

# wait_log NAME ERE [COUNT [SECONDS]] - wait until NAME's log has at least
# COUNT (default 1) lines matching ERE; returns 1 after SECONDS (default 10)
wait_log() {
	_wl_i=0
	while :; do
		_wl_n=$(grep -E -c -- "$2" "$(gw_log "$1")" 2>/dev/null || true)
		[ "${_wl_n:-0}" -lt "${3:-1}" ] || return 0
		_wl_i=$((_wl_i + 1))
		[ $_wl_i -lt $((${4:-10} * 10)) ] || return 1
		sleep 0.1
	done
}

# gw_wait_ready NAME [COUNT] - wait until NAME's ingress role has started
# for the COUNT-th time (default 1): keys read, root dropped, serving.
# gw_start returns earlier, once the supervisor has bound the port.
gw_wait_ready() {
	wait_log "$1" 'event=ingress_ready' "${2:-1}" 15 ||
	    fail "gateway $1: ingress role not ready (ingress_ready #${2:-1})"
}

# port_closed PORT - true if nothing accepts connections on 127.0.0.1:PORT
port_closed() {
	! python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$1" 2>/dev/null
}

sg() {	# NAME args... - the CLI with NAME's config
	_sg_name=$1
	shift
	"$SG_BIN" -c "$T/$_sg_name.conf" "$@"
}

psql_sg() {
	psql -X -q -tA -h "$SG_VAR/pg/sock" -p "$SG_PG_PORT" -U sealgate "$SG_DB" "$@"
}

script() {	# PORT FILE [VAR=VAL...] - run an SMTP transcript
	p=$1
	shift
	f=$1
	shift
	python3 -S "$SG_TOP/tests/integration/smtpscript.py" 127.0.0.1 "$p" "$f" "$@"
}

# queued_id TEXT - the id of the last "queued as ID" in TEXT (swaks or
# smtpscript output), empty if none
queued_id() {
	printf '%s\n' "$1" |
	    sed -n 's/.*queued as \([0-9A-Za-z]\{1,\}\).*/\1/p; s/^queued \([0-9A-Za-z]\{1,\}\)$/\1/p' |
	    tail -1
}

# count_from SENDER - messages in the queue whose MAIL FROM is SENDER
# (give every test its own sender addresses to count what it queued)
count_from() {
	echo "SELECT count(*) FROM messages WHERE mail_from = :'s'" |
	    psql_sg -v ON_ERROR_STOP=1 -v "s=$1"
}

# raw_split NAME ID - `queue show ID --raw` (gateway NAME's CLI) into
# $T/ID.raw, $T/ID.hdr (our Received: block: its first line and the lines
# after it that start with a tab) and $T/ID.rest (everything after it)
raw_split() {
	sg "$1" queue show "$2" --raw >"$T/$2.raw" || fail "queue show $2 --raw"
	python3 - "$T/$2.raw" "$T/$2.hdr" "$T/$2.rest" <<'EOF_PY' || fail "raw_split $2"
import sys
data = open(sys.argv[1], "rb").read()
if not data.startswith(b"Received: from "):
    sys.exit("%s: does not start with 'Received: from '" % sys.argv[1])
lines = data.split(b"\r\n")
n = 1
while n < len(lines) and lines[n].startswith(b"\t"):
    n += 1
hdr = b"".join(l + b"\r\n" for l in lines[:n])
open(sys.argv[2], "wb").write(hdr)
open(sys.argv[3], "wb").write(data[len(hdr):])
EOF_PY
}

# run_script PORT FILE [VAR=VAL...] - like script, but a failed transcript
# fails the test, naming the file; prints the transcript's output
run_script() {
	_rs_out=$(script "$@" 2>&1) || {
		printf '%s\n' "$_rs_out" >&2
		fail "transcript $(basename "$2") $(shift 2; printf '%s ' "$@")"
	}
	printf '%s\n' "$_rs_out"
}

# bg_track PID - a background helper (client, server) of the test: it is
# killed when the test exits, however it exits
BG_PIDS=""
bg_track() {
	BG_PIDS="$BG_PIDS $1"
}

# fake_recv NAME ADDR PORT [fakesmtp options] - a receiving SMTP server
# (tests/integration/receivers/fakesmtp.py) logging to $T/NAME.log and
# storing mail in $T/NAME.mail; sets RECV_PID; stopped at exit.
fake_recv() {
	_n=$1
	_a=$2
	_p=$3
	shift 3
	rm -f "$T/$_n.ready" "$T/$_n.log"
	rm -rf "$T/$_n.mail"
	mkdir -p "$T/$_n.mail"
	python3 "$SG_TOP/tests/integration/receivers/fakesmtp.py" --addr "$_a" \
	    --port "$_p" --log "$T/$_n.log" --maildir "$T/$_n.mail" \
	    --ready "$T/$_n.ready" "$@" >"$T/$_n.err" 2>&1 &
	RECV_PID=$!
	bg_track $RECV_PID
	_i=0
	while [ ! -f "$T/$_n.ready" ]; do
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || ! kill -0 $RECV_PID 2>/dev/null; then
			cat "$T/$_n.err" >&2
			fail "receiver $_n did not start"
		fi
		sleep 0.1
	done
}

# fake_recv_stop - stop the receiver fake_recv started last
fake_recv_stop() {
	kill -TERM "$RECV_PID" 2>/dev/null || true
	wait "$RECV_PID" 2>/dev/null || true
	BG_PIDS=$(echo " $BG_PIDS " | sed "s/ $RECV_PID / /")
	RECV_PID=""
}

# test_ca DIR - a throwaway CA in DIR (ca.pem, ca.key);
# test_leaf DIR NAME SAN - a leaf NAME.pem/NAME.key signed by it
test_ca() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 30 -subj "/CN=sealgate test CA" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -keyout "$1/ca.key" -out "$1/ca.pem" 2>/dev/null || fail "test CA"
}
test_leaf() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=$2" -keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null ||
	    fail "csr $2"
	printf 'subjectAltName=%s\n' "$3" >"$1/$2.ext"
	openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
	    -CAcreateserial -days 30 -extfile "$1/$2.ext" -out "$1/$2.pem" \
	    2>/dev/null || fail "leaf $2"
}

cleanup_gateways() {
	for p in $BG_PIDS; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $GW_PIDS; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $GW_PIDS; do
		wait "$p" 2>/dev/null || true
	done
	# under ASan/UBSan (BUILD=build-asan) a report in any gateway's log
	# fails the test, even one whose clients saw nothing wrong
	if grep -E -l 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$SG_TMP/$SG_TEST".*.log >/dev/null 2>&1; then
		grep -E -h -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
		    "$SG_TMP/$SG_TEST".*.log >&2
		echo "FAIL: sanitizer report in the gateway log" >&2
		exit 1
	fi
	[ "$LATER_FAILS" = 0 ] || exit 1
}
trap cleanup_gateways EXIT
