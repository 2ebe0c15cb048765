#!/bin/sh
# db_restart.sh - the database layer against a private PostgreSQL:
#   1. scripts/pg.sh start/stop/status and their idempotence;
#   2. `sealgate migrate` (when build/sealgate exists): all applied, then 0;
#   3. test_queue_db with SEALGATE_TEST_DB set, including the restart
#      test (server restarted between inserts and during one: the same
#      struct db must carry on);
#   4. the queue/admin CLI (when build/sealgate exists): queued bytes come
#      back exactly from `queue show --raw`, --json parses, unknown ids
#      fail.
# Usage: tests/integration/db_restart.sh   (BUILD=build-asan for ASan)
set -eu
cd "$(dirname "$0")/../.."
TOP=$(pwd -P)
BUILD=${BUILD:-build}
TEST_BIN=${TEST_QUEUE_DB:-$TOP/$BUILD/tests/test_queue_db}
SG_BIN=${SG_BIN:-$TOP/$BUILD/sealgate}
PG="$TOP/scripts/pg.sh"
# No TCP: the port only names the socket inside our private directory.
PORT=${SG_DB_TEST_PORT:-55440}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok - $*"
}

[ -x "$TEST_BIN" ] || fail "$TEST_BIN not built (make $BUILD/tests/test_queue_db)"

# short path: the socket path must stay under 108 bytes
TMP=$(mktemp -d /tmp/sg-db.XXXXXX)
chmod 755 "$TMP"		# the cluster may run as user sealgate
VAR=$TMP/var

cleanup() {
	"$PG" stop "$VAR" >/dev/null 2>&1 || true
	if [ "${KEEP:-0}" = 1 ]; then
		echo "db_restart: kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- 1. pg.sh
"$PG" status "$VAR" >/dev/null 2>&1 && fail "status before start says running"
ok "status: not running before start"
"$PG" start "$VAR" "$PORT" >/dev/null || fail "pg.sh start"
ok "pg.sh start (initdb)"
"$PG" start "$VAR" "$PORT" | grep -q "already running" ||
    fail "second start is not a no-op"
ok "pg.sh start again: no-op"
"$PG" status "$VAR" >/dev/null || fail "status after start"
ok "pg.sh status: running"
[ "$(stat -c %a "$VAR/pg/sock")" = 700 ] || fail "socket dir not 0700"
ok "socket directory is private"
"$PG" stop "$VAR" >/dev/null && "$PG" stop "$VAR" >/dev/null ||
    fail "stop twice"
"$PG" status "$VAR" >/dev/null 2>&1 && fail "status after stop says running"
"$PG" start "$VAR" "$PORT" >/dev/null || fail "restart"
ok "pg.sh stop, stop again, start again"
psql -X -q -h "$VAR/pg/sock" -p "$PORT" -U sealgate -d sealgate \
    -tAc "SELECT current_setting('fsync') || ' ' ||
	current_setting('listen_addresses') || '|' ||
	(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)" \
    >"$TMP/settings" || fail "psql as sealgate"
[ "$(cat "$TMP/settings")" = "on |false" ] ||
    fail "settings: got '$(cat "$TMP/settings")', want 'on |false'"
ok "fsync on, no TCP listener, role sealgate is not a superuser"

CONNINFO="host=$VAR/pg/sock port=$PORT dbname=sealgate user=sealgate"

# --- 2. migrate through the CLI
have_cli=0
if [ -x "$SG_BIN" ]; then
	have_cli=1
	CONF=$TMP/sealgate.conf
	cat >"$CONF" <<EOF
state_dir = $VAR
database = "$CONNINFO"
EOF
	out=$("$SG_BIN" -c "$CONF" migrate) || fail "sealgate migrate"
	nmig=$(ls "$TOP"/db/migrations/*.sql | wc -l)
	[ "$out" = "migrate: $nmig applied, schema at version $nmig" ] ||
	    fail "first migrate: got '$out'"
	out=$("$SG_BIN" -c "$CONF" migrate) || fail "sealgate migrate (2)"
	[ "$out" = "migrate: 0 applied, schema at version $nmig" ] ||
	    fail "second migrate: got '$out'"
	ok "sealgate migrate: $nmig applied, then 0"
else
	echo "skip - $SG_BIN not built: CLI checks skipped"
fi

# --- 3. the C tests, with restarts
export SEALGATE_TEST_DB="$CONNINFO"
export SEALGATE_TEST_PG_STOP="'$PG' stop '$VAR' >/dev/null"
export SEALGATE_TEST_PG_START="'$PG' start '$VAR' $PORT >/dev/null"
if ! "$TEST_BIN" >"$TMP/test_queue_db.out" 2>&1; then
	cat "$TMP/test_queue_db.out"
	fail "test_queue_db"
fi
if grep -q SKIPPED "$TMP/test_queue_db.out"; then
	cat "$TMP/test_queue_db.out"
	fail "test_queue_db skipped tests"
fi
ok "test_queue_db: $(grep -c '\[       OK \]' "$TMP/test_queue_db.out") tests, server restarted under it"
"$PG" status "$VAR" >/dev/null || fail "cluster not running after the test"

[ "$have_cli" = 1 ] || exit 0

# --- 4. queue and admin CLI
psql_sg() {
	psql -X -q -v ON_ERROR_STOP=1 -h "$VAR/pg/sock" -p "$PORT" \
	    -U sealgate -d sealgate "$@"
}
ID=CLITEST$(date +%s | tail -c 10)
[ ${#ID} -le 16 ] || ID=$(echo "$ID" | cut -c1-16)
printf 'Received: by test\r\nSubject: caf\303\251 \377\r\n\r\nNUL:\000 8bit:\351\r\n.\r\n' \
    >"$TMP/msg"
hex=$(od -An -v -tx1 "$TMP/msg" | tr -d ' \n')
size=$(wc -c <"$TMP/msg")
psql_sg -c "INSERT INTO messages (id, mail_from, size, data, tls_protocol,
	tls_cipher, tls_bits, client_addr, client_helo, requiretls)
	VALUES ('$ID', 'a@example.org', $size, decode('$hex', 'hex'),
	'TLSv1.3', 'TLS_AES_128_GCM_SHA256', 128, '192.0.2.1',
	E'evil\\x1b[31mhelo', true)" \
    -c "INSERT INTO recipients (message_id, rcpt, state)
	VALUES ('$ID', 'x@y.example', 'queued'),
	('$ID', 'z@y.example', 'delivered')" || fail "insert test message"

"$SG_BIN" -c "$CONF" queue show "$ID" --raw >"$TMP/raw" || fail "show --raw"
cmp -s "$TMP/msg" "$TMP/raw" || fail "queue show --raw: bytes differ"
ok "queue show --raw returns the exact stored bytes"

"$SG_BIN" -c "$CONF" queue show "$ID" --json >"$TMP/show.json" ||
    fail "show --json"
python3 - "$TMP/show.json" "$ID" <<'EOF' || fail "show --json content"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["id"] == sys.argv[2], m
assert m["tls_protocol"] == "TLSv1.3" and m["tls_bits"] == 128, m
assert m["requiretls"] is True, m
assert m["client_helo"] == "evil\x1b[31mhelo", m
assert [r["state"] for r in m["recipients"]] == ["queued", "delivered"], m
assert m["states"]["queued"] == 1 and m["states"]["delivered"] == 1, m
EOF
ok "queue show --json"

out=$("$SG_BIN" -c "$CONF" queue show "$ID") || fail "show (text)"
case "$out" in
*"$(printf '\033')"*) fail "queue show printed a raw escape character" ;;
esac
echo "$out" | grep -q "TLSv1.3 TLS_AES_128_GCM_SHA256 (128 bits)" ||
    fail "show text lacks TLS facts: $out"
ok "queue show (text) escapes network text"

"$SG_BIN" -c "$CONF" queue list --json >"$TMP/list.json" || fail "list --json"
python3 - "$TMP/list.json" "$ID" <<'EOF' || fail "list --json content"
import json, sys
d = json.load(open(sys.argv[1]))
m = [x for x in d["messages"] if x["id"] == sys.argv[2]]
assert len(m) == 1 and m[0]["recipient_count"] == 2, d
EOF
"$SG_BIN" -c "$CONF" queue list | grep -q "^$ID " || fail "list (text)"
ok "queue list (text and --json)"

set +e
"$SG_BIN" -c "$CONF" queue show NOSUCHID >/dev/null 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "no message" "$TMP/err" ||
    fail "unknown id: exit $rc, stderr $(cat "$TMP/err")"
ok "queue show unknown id: exit 1"

echo "s3cret pass" | "$SG_BIN" -c "$CONF" admin user add bob@example.org |
    grep -q "added" || fail "admin user add"
printf 'other\n' >"$TMP/pw"
"$SG_BIN" -c "$CONF" admin user add bob@example.org --password-file "$TMP/pw" |
    grep -q "updated" || fail "admin user add (update)"
"$SG_BIN" -c "$CONF" admin user list --json | python3 -c '
import json, sys
u = json.load(sys.stdin)["users"]
assert [x["name"] for x in u] == ["bob@example.org"], u' ||
    fail "admin user list --json"
h=$(psql_sg -tAc "SELECT password_hash FROM users WHERE name = 'bob@example.org'")
case "$h" in
'$scrypt$ln=15,r=8,p=1$'*) ;;
*) fail "stored hash: $h" ;;
esac
set +e
"$SG_BIN" -c "$CONF" admin user add eve --password x </dev/null >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "--password on the command line accepted (exit $rc)"
"$SG_BIN" -c "$CONF" admin user delete bob@example.org | grep -q deleted ||
    fail "admin user delete"
set +e
"$SG_BIN" -c "$CONF" admin user delete bob@example.org >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "deleting a missing user: exit $rc"
ok "admin user add/update/list/delete"

psql_sg -c "DELETE FROM messages WHERE id = '$ID'" >/dev/null
echo "db_restart: all passed"
