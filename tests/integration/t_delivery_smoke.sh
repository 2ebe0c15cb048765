#!/bin/sh
# t_delivery_smoke - a queued message is delivered to a routed smtp-sink
# within a second, and `sealgate log` tells how.
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
SINK=$((P + 1))
mkdir -p "$T/sink"
chmod 777 "$T/sink"
smtp-sink -u postfix -d "$T/sink/%M." 127.0.0.1:$SINK 50 &
bg_track $!
wait_port $SINK
gw_config gw $P <<CONF
roles = ingress delivery
routes = sink.test=[127.0.0.1]:$SINK
delivery_retry_min = 1s
CONF
gw_start gw $P
out=$(swaks --server 127.0.0.1:$P --from a@example.org --to b@sink.test 2>&1)
id=$(echo "$out" | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p')
[ -n "$id" ] || fail "not queued: $out"
i=0
while [ "$(psql_sg -c "SELECT state FROM recipients WHERE message_id = '$id'")" != delivered ]; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "not delivered: $(sg gw log --message $id)"
	sleep 0.1
done
ok "delivered after $i polls of 100 ms"
n=$(ls "$T/sink" | wc -l)
assert_eq "$n" 1 "one message at the sink"
grep -q "^Received: from" "$T"/sink/* || fail "sink file lacks our Received header"
log=$(sg gw log --message "$id")
assert_contains "$log" "delivered" "log shows the outcome"
assert_contains "$log" "tls_level=may" "log shows the TLS level"
assert_contains "$log" "TLS: none" "smtp-sink has no TLS: the log says so"
