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
TLS_RCV_PORT=${SEALGATE_DEMO_TLS_PORT:-2526}
PLAIN_RCV_PORT=${SEALGATE_DEMO_PLAIN_PORT:-2527}
PORTAL_PORT=${SEALGATE_PORTAL_PORT:-8443}
MAILDIR=$VAR/demo-mail

mkdir -p "$VAR"
VAR=$(cd "$VAR" && pwd -P)

if [ "$(id -u)" = 0 ]; then
	RUN_USER=sealgate
	id "$RUN_USER" >/dev/null 2>&1 || useradd --system --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin "$RUN_USER"
else
	RUN_USER=$(id -un)
fi

DEMO_VERSION=3
if [ -f "$CONF" ] && ! grep -q "^# demo-config-version: $DEMO_VERSION" "$CONF"; then
	mv "$CONF" "$CONF.old"
	echo "run: the demo config changed; old one kept as $CONF.old"
fi
if [ ! -f "$VAR/tls/cert.pem" ]; then
	mkdir -p "$VAR/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -days 825 -subj "/CN=localhost" \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    -keyout "$VAR/tls/key.pem" -out "$VAR/tls/cert.pem" 2>/dev/null
	chmod 600 "$VAR/tls/key.pem"
fi
if [ ! -f "$CONF" ]; then
	cat > "$CONF" <<CONFEOF
# sealgate demo configuration, written by \`make run\`.
# demo-config-version: $DEMO_VERSION
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

# Demo domains, served by local receivers (scripts/demo-receiver.py):
#   tls.demo     a receiver that offers STARTTLS
#   plain.demo   a receiver without TLS (opportunistic TLS: plaintext)
#   forced.demo  on the forced-TLS list, but its server (the plain one)
#                offers no STARTTLS: nothing is sent, the mail is deferred
routes = tls.demo=[127.0.0.1]:$TLS_RCV_PORT, plain.demo=[127.0.0.1]:$PLAIN_RCV_PORT, forced.demo=[127.0.0.1]:$PLAIN_RCV_PORT
forced_tls_domains = forced.demo
delivery_retry_min = 60s
delivery_retry_max = 600s

# The escrow portal (web role): mail whose Subject carries [secure] is
# stored sealed and the recipient reads it at https://localhost:$PORTAL_PORT
roles = ingress delivery prober web
escrow = yes
escrow_master_key_file = $VAR/escrow.key
escrow_org_name = sealgate demo
portal_listen = 127.0.0.1:$PORTAL_PORT
portal_url = https://localhost:$PORTAL_PORT
templates_dir = $TOP/templates
CONFEOF
	echo "run: wrote demo config $CONF"
fi

# the escrow master key (never in the database)
key=$(sed -n 's/^[[:space:]]*escrow_master_key_file[[:space:]]*=[[:space:]]*\([^ #]*\).*/\1/p' "$CONF")
if [ -n "$key" ] && [ ! -f "$key" ]; then
	"$BIN" -c "$CONF" escrow keygen
fi
"$BIN" -c "$CONF" check-config

PRIVATE_PG=1
if grep -Eq '^[[:space:]]*database[[:space:]]*=' "$CONF"; then
	PRIVATE_PG=0
	echo "run: config names a database; not starting a private PostgreSQL"
fi

cleanup() {
	trap - INT TERM EXIT
	for p in ${RCV_PIDS:-}; do
		kill "$p" 2>/dev/null || true
	done
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

# the demo domains' receiving servers
RCV_PIDS=""
python3 "$TOP/scripts/demo-receiver.py" --name tls.demo \
    --listen 127.0.0.1:$TLS_RCV_PORT --maildir "$MAILDIR/tls.demo" \
    --tls "$VAR/tls/cert.pem" "$VAR/tls/key.pem" &
RCV_PIDS="$RCV_PIDS $!"
python3 "$TOP/scripts/demo-receiver.py" --name plain.demo \
    --listen 127.0.0.1:$PLAIN_RCV_PORT --maildir "$MAILDIR/plain.demo" &
RCV_PIDS="$RCV_PIDS $!"

listen=$(sed -n 's/^[[:space:]]*smtp_listen[[:space:]]*=[[:space:]]*\([^ ,#]*\).*/\1/p' "$CONF")
listen=${listen:-127.0.0.1:$SMTP_PORT}
cat <<EOF

  sealgate is running (Ctrl-C stops it and the private PostgreSQL).

  Send mail to:   smtp://$listen  (STARTTLS offered, self-signed certificate)
      swaks --server $listen --from you@example.org --to someone@example.com
  Demo domains (local receivers; delivered mail lands in $MAILDIR/DOMAIN/):
      swaks --server $listen --from you@example.org --to alice@tls.demo
          arrives over TLS: $MAILDIR/tls.demo/
      swaks --server $listen --from you@example.org --to bob@plain.demo
          arrives in plaintext (no STARTTLS there): $MAILDIR/plain.demo/
      swaks --server $listen --from you@example.org --to carol@forced.demo
          forced-TLS domain whose server strips STARTTLS: nothing is sent,
          the message stays deferred
  The escrow portal: https://localhost:$PORTAL_PORT/ (self-signed certificate)
      swaks --server $listen --from you@tls.demo --to partner@plain.demo \\
          --h-Subject "[secure] contract draft" --body "The figures are attached."
          the message is sealed in the portal; the notification with the
          enrollment link lands in $MAILDIR/plain.demo/; open the link,
          set a password, read, reply: the reply goes back to you@tls.demo
          over TLS ($MAILDIR/tls.demo/)
  Look at the queue and at how each message was sent:
      $BIN -c $CONF queue list
      $BIN -c $CONF queue show ID
      $BIN -c $CONF log --message ID
  Config: $CONF

EOF
"$BIN" -c "$CONF" serve &
GW_PID=$!
wait "$GW_PID" || true
