#!/bin/sh
# run.sh - `make run`: a working demo gateway in the foreground.
#
# First run: creates ./var with a demo config and a self-signed
# certificate, a private PostgreSQL cluster (unless the config names a
# `database`), migrates, and starts `sealgate serve`. Later runs reuse
# ./var. Ctrl-C stops the gateway, then the private PostgreSQL.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd -P)
VAR=${SEALGATE_VAR:-$TOP/var}
CONF=$VAR/sealgate.conf
BIN=$TOP/build/sealgate
SMTP_PORT=${SEALGATE_SMTP_PORT:-2525}
PG_PORT=${SEALGATE_PG_PORT:-5439}

mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd -P)

if [ "$(id -u)" = 0 ]; then
	RUN_USER=sealgate
	id "$RUN_USER" >/dev/null 2>&1 || useradd --system --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER"
else
	RUN_USER=$(id -un)
fi

if [ ! -f "$CONF" ]; then
	mkdir -p "$VAR/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 825 -subj "/CN=localhost" \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    -keyout "$VAR/tls/key.pem" -out "$VAR/tls/cert.pem" 2>/dev/null
	chmod 600 "$VAR/tls/key.pem"
	cat > "$CONF" <<CONFEOF
# sealgate demo configuration, written by \`make run\`.
# Every key is documented in sealgate.conf.example.
hostname = localhost
state_dir = $VAR
user = $RUN_USER
# database = postgresql://user@dbhost/sealgate   (unset: private cluster)
embedded_db_port = $PG_PORT
smtp_listen = 127.0.0.1:$SMTP_PORT
smtp_tls_cert_file = $VAR/tls/cert.pem
smtp_tls_key_file = $VAR/tls/key.pem
relay_networks = 127.0.0.0/8, ::1/128
log_level = info
CONFEOF
	echo "run: wrote demo config $CONF"
fi

"$BIN" -c "$CONF" check-config

PRIVATE_PG=1
if grep -Eq '^[[:space:]]*database[[:space:]]*=' "$CONF"; then
	PRIVATE_PG=0
	echo "run: config names a database; not starting a private PostgreSQL"
fi

cleanup() {
	trap - INT TERM EXIT
	if [ -n "${GW_PID:-}" ] && kill -0 "$GW_PID" 2>/dev/null; then
		kill -TERM "$GW_PID" 2>/dev/null || true
		wait "$GW_PID" 2>/dev/null || true
	fi
	if [ "$PRIVATE_PG" = 1 ]; then
		"$TOP/scripts/pg.sh" stop "$VAR" || true
	fi
	echo "run: stopped"
}
trap cleanup INT TERM EXIT

if [ "$PRIVATE_PG" = 1 ]; then
	port=$(sed -n 's/^[[:space:]]*embedded_db_port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$CONF")
	"$TOP/scripts/pg.sh" start "$VAR" "${port:-$PG_PORT}"
fi
"$BIN" -c "$CONF" migrate

listen=$(sed -n 's/^[[:space:]]*smtp_listen[[:space:]]*=[[:space:]]*\([^ ,#]*\).*/\1/p' "$CONF")
listen=${listen:-127.0.0.1:$SMTP_PORT}
cat <<EOF

  sealgate is running (Ctrl-C stops it and the private PostgreSQL).

  Send mail to:   smtp://$listen  (STARTTLS offered, self-signed certificate)
      swaks --server $listen --from you@example.org --to someone@example.com
  Look at the queue:
      $BIN -c $CONF queue list
      $BIN -c $CONF queue show ID
  Config: $CONF

EOF
"$BIN" -c "$CONF" serve &
GW_PID=$!
wait "$GW_PID" || true
