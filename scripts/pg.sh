#!/bin/sh
# pg.sh - the private PostgreSQL cluster under a sealgate state dir.
#
#   scripts/pg.sh start  STATE_DIR PORT   initdb if needed, start, create
#                                         role and database "sealgate"
#   scripts/pg.sh stop   STATE_DIR        fast shutdown (no-op if stopped)
#   scripts/pg.sh status STATE_DIR        exit 0 running, 3 stopped
#
# Layout: STATE_DIR/pg/data (cluster), STATE_DIR/pg/sock (unix socket,
# the only way in: no TCP), STATE_DIR/pg/log (server log).
# Authentication is "trust" on the socket, so the socket directory is
# mode 0700: only the cluster's owner (and root) can connect.
# As root the cluster runs as the system user "sealgate" (created if
# missing); otherwise as the calling user.
# Connect: psql -h STATE_DIR/pg/sock -p PORT -U sealgate sealgate
set -eu

PG_USER=sealgate	# OS user running the cluster when we are root
DB_ROLE=sealgate	# role and database the gateway uses
SUN_PATH_MAX=107	# sizeof(sun_path) - 1 on Linux

die() {
	echo "pg.sh: $*" >&2
	exit 1
}

usage() {
	cat >&2 <<EOF
usage: $0 start STATE_DIR PORT
       $0 stop STATE_DIR
       $0 status STATE_DIR
EOF
	exit 2
}

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		echo "$PG_BINDIR"
		return
	fi
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	if [ -z "$d" ] && command -v pg_ctl >/dev/null 2>&1; then
		d=$(dirname "$(command -v pg_ctl)")
	fi
	[ -n "$d" ] && [ -x "$d/pg_ctl" ] ||
	    die "PostgreSQL server binaries not found (install postgresql, or set PG_BINDIR)"
	echo "$d"
}

# as_owner CMD... - run CMD as the cluster owner (pg_ctl refuses root)
as_owner() {
	if [ "$IS_ROOT" = 1 ]; then
		# 9>&-: the lock fd must not be inherited by the postmaster,
		# or the lock outlives this script
		(cd / && runuser -u "$PG_USER" -- "$@" 9>&-)
	else
		"$@" 9>&-
	fi
}

# set_paths STATE_DIR [create] - absolute paths; refuse what breaks configs
set_paths() {
	case "$1" in
	"") die "empty STATE_DIR" ;;
	esac
	if [ "${2:-}" = create ]; then
		mkdir -p "$1" || die "cannot create $1"
	fi
	[ -d "$1" ] || die "state dir $1 does not exist"
	STATE=$(cd "$1" && pwd -P) || die "cannot resolve $1"
	# The path goes into postgresql.conf, libpq conninfo strings and the
	# comma-separated unix_socket_directories: keep it plain.
	case "$STATE" in
	*[[:space:]]* | *[\'\"\\,=]*)
		die "state dir path must not contain whitespace, quotes, backslashes, commas or '=': $STATE" ;;
	esac
	PGDIR=$STATE/pg
	DATA=$PGDIR/data
	SOCK=$PGDIR/sock
	LOG=$PGDIR/log
}

# lock - serialize start/stop on one state dir (parallel test runners)
lock() {
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$STATE/.pg.lock"
		flock -w 120 9 || die "timed out waiting for $STATE/.pg.lock"
	fi
}

check_port() {
	case "$1" in
	"" | *[!0-9]*) die "bad port '$1'" ;;
	esac
	[ "$1" -ge 1 ] && [ "$1" -le 65535 ] || die "bad port '$1'"
}

# running - 0 if the cluster is up (pg_ctl status exits 3 when stopped)
running() {
	[ -f "$DATA/PG_VERSION" ] || return 1
	as_owner "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

ensure_os_user() {
	id "$PG_USER" >/dev/null 2>&1 && return 0
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin "$PG_USER" ||
	    die "cannot create system user $PG_USER"
}

# write_conf PORT - the settings we own, rewritten at every start so the
# port may change; postgresql.conf includes this file.
write_conf() {
	as_owner sh -c 'cat > "$1/sealgate.conf.tmp" && mv "$1/sealgate.conf.tmp" "$1/sealgate.conf"' \
	    sh "$DATA" <<EOF
# written by scripts/pg.sh at every start; edits are lost
listen_addresses = ''
port = $1
unix_socket_directories = '$SOCK'
unix_socket_permissions = 0700
# a 250 to DATA is a promise: commits must reach the disk
fsync = on
synchronous_commit = on
full_page_writes = on
wal_sync_method = fdatasync
max_connections = 200
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
}

do_initdb() {
	as_owner mkdir -p "$DATA"
	as_owner chmod 0700 "$DATA"
	# Bootstrap superuser "postgres"; the gateway's role is not one.
	as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust \
	    --auth-host=reject -E UTF8 --locale=C --data-checksums \
	    --no-instructions >"$PGDIR/initdb.log" 2>&1 || {
		cat "$PGDIR/initdb.log" >&2
		die "initdb failed (log above, also in $PGDIR/initdb.log)"
	}
	echo "include_if_exists = 'sealgate.conf'" |
	    as_owner sh -c 'cat >> "$1/postgresql.conf"' sh "$DATA"
}

psql_admin() {
	"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" \
	    -U postgres -d postgres "$@"
}

ensure_role_db() {
	r=$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$DB_ROLE'")
	if [ "$r" != 1 ]; then
		psql_admin -c "CREATE ROLE $DB_ROLE LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"
	fi
	r=$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_ROLE'")
	if [ "$r" != 1 ]; then
		psql_admin -c "CREATE DATABASE $DB_ROLE OWNER $DB_ROLE"
	fi
	# The caller (whoever they are: trust on a 0700 socket dir) must be
	# able to connect as the gateway's role.
	"$BIN/psql" -X -q -h "$SOCK" -p "$PORT" -U "$DB_ROLE" -d "$DB_ROLE" \
	    -tAc "SELECT 1" >/dev/null ||
	    die "cannot connect as role $DB_ROLE"
}

cmd_start() {
	[ $# -eq 2 ] || usage
	check_port "$2"
	PORT=$2
	set_paths "$1" create

	sockfile="$SOCK/.s.PGSQL.$PORT"
	if [ ${#sockfile} -gt $SUN_PATH_MAX ]; then
		die "socket path $sockfile is ${#sockfile} bytes, the limit is $SUN_PATH_MAX: use a shorter state dir"
	fi
	lock

	if [ "$IS_ROOT" = 1 ]; then
		ensure_os_user
		mkdir -p "$PGDIR"
		chown "$PG_USER:" "$PGDIR"
		chmod 0700 "$PGDIR"
		as_owner test -x "$PGDIR" -a -w "$PGDIR" ||
		    die "user $PG_USER cannot reach $PGDIR: make every parent directory searchable (chmod o+x) or use another state dir"
	else
		mkdir -p "$PGDIR"
		chmod 0700 "$PGDIR"
	fi
	as_owner mkdir -p "$SOCK"
	as_owner chmod 0700 "$SOCK"

	if running; then
		cur=$(sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true)
		if [ -n "$cur" ] && [ "$cur" != "$PORT" ]; then
			die "cluster in $DATA already running on port $cur, not $PORT"
		fi
		ensure_role_db
		echo "pg.sh: already running: host=$SOCK port=$PORT"
		return 0
	fi

	if [ ! -f "$DATA/PG_VERSION" ]; then
		[ -d "$DATA" ] && [ -n "$(ls -A "$DATA" 2>/dev/null)" ] &&
		    die "$DATA exists, is not empty and holds no cluster"
		do_initdb
	fi
	write_conf "$PORT"
	# Log goes to a file the owner can write.
	[ "$IS_ROOT" = 1 ] && { touch "$LOG"; chown "$PG_USER:" "$LOG"; }
	# 9>&-: the server must not inherit (and hold) our lock
	if ! as_owner "$BIN/pg_ctl" start -D "$DATA" -w -t 60 -l "$LOG" \
	    >/dev/null 9>&-; then
		tail -n 20 "$LOG" >&2 || true
		die "PostgreSQL did not start (log: $LOG)"
	fi
	ensure_role_db
	echo "pg.sh: running: host=$SOCK port=$PORT dbname=$DB_ROLE user=$DB_ROLE"
}

cmd_stop() {
	[ $# -eq 1 ] || usage
	set_paths "$1"
	if ! running; then
		echo "pg.sh: not running"
		return 0
	fi
	lock
	as_owner "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null ||
	    die "PostgreSQL did not stop (log: $LOG)"
	echo "pg.sh: stopped"
}

cmd_status() {
	[ $# -eq 1 ] || usage
	set_paths "$1"
	if running; then
		port=$(sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true)
		echo "pg.sh: running: host=$SOCK port=$port dbname=$DB_ROLE user=$DB_ROLE"
		return 0
	fi
	echo "pg.sh: not running"
	return 3
}

[ $# -ge 1 ] || usage
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1
BIN=$(find_bindir)
cmd=$1
shift
case "$cmd" in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
status) cmd_status "$@" ;;
-h | --help | help) usage ;;
*) usage ;;
esac
