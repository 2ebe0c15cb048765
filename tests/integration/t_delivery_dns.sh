#!/bin/sh
# t_delivery_dns - routing by MX through the local DNS server: delivery to
# the MX address, null MX and NXDOMAIN bounce with a DSN to the sender,
# a dead MX defers and the recipient is retried, the DSN is a valid
# multipart/report (checked with Python's email parser, not our code).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$SG_PORT_BASE
SINK=$((P + 2))
dns_start $((P + 1))
mkdir -p "$T/sink"
chmod 777 "$T/sink"
# plain.test's MX is mx1.plain.test = 127.0.0.21
smtp-sink -u postfix -d "$T/sink/%M." 127.0.0.21:$SINK 50 &
bg_track $!
wait_port_on() { python3 - "$1" "$2" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}
wait_port_on 127.0.0.21 $SINK || fail "sink did not start"
gw_config gw $P <<CONF
roles = ingress delivery
dns_forwarders = $SG_DNS
dns_allow_zones = test
delivery_port = $SINK
delivery_retry_min = 1s
delivery_retry_max = 2s
CONF
gw_start gw $P

send() {	# from to -> queue id
	swaks --server 127.0.0.1:$P --from "$1" --to "$2" --h-Subject "t $2" \
	    2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p'
}
state_of() {
	psql_sg -c "SELECT state FROM recipients WHERE message_id = '$1'"
}
wait_state() {	# id state
	i=0
	while [ "$(state_of "$1")" != "$2" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "$1 not $2 but $(state_of "$1"): $(sg gw log --message "$1")"
		sleep 0.1
	done
}

id=$(send a@plain.test b@plain.test)
wait_state "$id" delivered
log=$(sg gw log --message "$id")
assert_contains "$log" "mx=mx1.plain.test [127.0.0.21]" "delivered to the MX host and address"

# null MX: bounced at once with 5.1.10; the DSN goes to a@plain.test,
# i.e. to the same sink
id=$(send a@plain.test c@nullmx.test)
wait_state "$id" bounced
assert_contains "$(sg gw log --message "$id")" "556 5.1.10" "null MX bounces with 5.1.10"
id2=$(send a@plain.test d@nxdomain.test)
wait_state "$id2" bounced
assert_contains "$(sg gw log --message "$id2")" "5.1.2" "NXDOMAIN bounces with 5.1.2"
i=0
while [ "$(grep -l 'report-type=delivery-status' "$T"/sink/* 2>/dev/null | wc -l)" -lt 2 ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "DSNs did not reach the sender's sink"
	sleep 0.1
done
ok "two DSNs delivered to the sender"
for f in $(grep -l 'report-type=delivery-status' "$T"/sink/*); do
	python3 - "$f" <<'PY' || fail "DSN $f is not a valid RFC 3464 report"
import email, sys
from email import policy
raw = open(sys.argv[1], 'rb').read()
# smtp-sink writes the envelope first; the message starts at Received:
raw = raw[raw.find(b'Received:'):]
m = email.message_from_bytes(raw, policy=policy.default)
assert m.get_content_type() == 'multipart/report', m.get_content_type()
assert m.get_param('report-type') == 'delivery-status'
parts = list(m.iter_parts())
assert [p.get_content_type() for p in parts] == ['text/plain', 'message/delivery-status', 'text/rfc822-headers'], [p.get_content_type() for p in parts]
ds = parts[1].as_string()
assert 'Action: failed' in ds and 'Final-Recipient: rfc822;' in ds, ds
PY
done
ok "DSNs parse as multipart/report with a delivery-status part"
# the DSN itself has the null sender, so a bounce is never bounced
assert_eq "$(psql_sg -c "SELECT count(*) FROM messages WHERE mail_from = '' AND id IN (SELECT message_id FROM recipients WHERE rcpt = 'a@plain.test')")" 2 "DSNs are sent with the null sender"

# an MX that does not answer: deferred, attempts grow, still queued
id=$(send a@plain.test e@multi.test)
i=0
while [ "$(psql_sg -c "SELECT attempts FROM recipients WHERE message_id = '$id'")" -lt 2 ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "not retried: $(sg gw log --message "$id")"
	sleep 0.1
done
assert_eq "$(state_of "$id")" deferred "unreachable MX: deferred and retried"
n=$(sg gw log --message "$id" --json | python3 -c "import json,sys; a=json.load(sys.stdin); print(len({x['mx_addr'] for x in a}))")
ok "attempt rows name the addresses tried ($n distinct)"
