#!/bin/sh
# run-all.sh - integration tests: one private PostgreSQL for the run, then
# every t_*.sh (each starts its own gateway(s) against it and drives them
# from outside with real clients). Usage: run-all.sh [t_name ...]
set -u
cd "$(dirname "$0")/../.."
TOP=$(pwd -P)
BUILD=${BUILD:-build}
export SG_BIN="$TOP/$BUILD/sealgate"
export SG_TOP="$TOP"
[ -x "$SG_BIN" ] || { echo "run-all: $SG_BIN not built" >&2; exit 1; }

# short path: the PostgreSQL socket path must stay under 108 bytes
mkdir -p "${SG_TMPDIR:-/tmp}"
SG_TMP=$(mktemp -d "${SG_TMPDIR:-/tmp}/sgit.XXXXXX")
chmod 755 "$SG_TMP"
export SG_TMP
export SG_VAR="$SG_TMP/var"
export SG_PG_PORT=${SG_PG_PORT:-55439}
mkdir -p "$SG_VAR"

cleanup() {
	"$TOP/scripts/pg.sh" stop "$SG_VAR" >/dev/null 2>&1 || true
	if [ "${KEEP:-0}" = 1 ]; then
		echo "run-all: kept $SG_TMP"
	else
		rm -rf "$SG_TMP"
	fi
}
trap cleanup EXIT INT TERM

"$TOP/scripts/pg.sh" start "$SG_VAR" "$SG_PG_PORT" >/dev/null ||
    { echo "run-all: cannot start PostgreSQL" >&2; exit 1; }

# one test certificate for every gateway
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 30 -subj "/CN=mx.test" -addext "subjectAltName=DNS:mx.test" \
    -keyout "$SG_TMP/key.pem" -out "$SG_TMP/cert.pem" 2>/dev/null
chmod 644 "$SG_TMP/key.pem"

if [ $# -gt 0 ]; then
	tests=""
	for t in "$@"; do tests="$tests tests/integration/$t.sh"; done
else
	tests=$(ls tests/integration/t_*.sh)
fi
pass=0; failed=""
for t in $tests; do
	name=$(basename "$t" .sh)
	# a fixed port block per test name, so runs of different tests at
	# the same time do not collide
	port=$((20000 + ($(echo "$name" | cksum | cut -d' ' -f1) % 2000) * 20))
	start=$(date +%s)
	if SG_PORT_BASE=$port SG_TEST=$name timeout 600 sh "$t" \
	    >"$SG_TMP/$name.out" 2>&1; then
		pass=$((pass + 1))
		echo "PASS $name ($(($(date +%s) - start)) s)"
	else
		failed="$failed $name"
		echo "FAIL $name ($(($(date +%s) - start)) s)"
		sed 's/^/    /' "$SG_TMP/$name.out" | tail -40
		for l in "$SG_TMP/$name".*.log; do
			[ -f "$l" ] || continue
			echo "    --- $l (tail)"
			tail -15 "$l" | sed 's/^/    /'
		done
	fi
done
echo "integration: $pass passed${failed:+, failed:$failed}"
[ -z "$failed" ]
