#!/bin/sh
# t_delivery_nodes - two gateway nodes on one PostgreSQL deliver one queue
# with every message arriving exactly once; kill -9 of a delivery role
# during a load loses nothing (a duplicate only where the sink had
# already accepted: at-least-once).
. "$(dirname "$0")/lib.sh"
PA=$SG_PORT_BASE
PB=$((SG_PORT_BASE + 5))
SINK=$((SG_PORT_BASE + 9))
mkdir -p "$T/sink"
chmod 777 "$T/sink"
smtp-sink -u postfix -d "$T/sink/%M." 127.0.0.1:$SINK 256 &
bg_track $!
wait_port $SINK
for n in a b; do
	port=$PA
	[ $n = b ] && port=$PB
	gw_config $n $port <<CONF
roles = ingress delivery
routes = nodes.test=[127.0.0.1]:$SINK
delivery_workers = 4
delivery_retry_min = 1s
delivery_retry_max = 2s
smtp_max_sessions_per_client = 200
CONF
	gw_start $n $port
done

sender=nodes-$$@example.org
pending() {
	psql_sg -c "SELECT count(*) FROM recipients r JOIN messages m ON m.id = r.message_id WHERE m.mail_from = '$sender' AND r.state <> 'delivered'"
}
wait_drained() {	# seconds
	i=0
	while [ "$(pending)" != 0 ]; do
		i=$((i + 1))
		[ $i -lt $(($1 * 10)) ] || fail "still $(pending) undelivered after $1 s"
		sleep 0.1
	done
}
# queue ids seen at the sink (our Received: header names them)
sink_ids() {
	grep -h -A3 '^Received: from .*127.0.0.1' "$T"/sink/* 2>/dev/null |
	    sed -n 's/^[[:space:]]*id \([0-9A-Z]\{16\}\).*/\1/p'
}

smtp-source -s 5 -m 200 -f "$sender" -t x@nodes.test 127.0.0.1:$PA &
s1=$!
smtp-source -s 5 -m 200 -f "$sender" -t y@nodes.test 127.0.0.1:$PB &
s2=$!
wait $s1 || fail "smtp-source to node a failed"
wait $s2 || fail "smtp-source to node b failed"
wait_drained 60
total=$(sink_ids | wc -l)
distinct=$(sink_ids | sort -u | wc -l)
assert_eq "$total" 400 "400 messages arrived at the sink"
assert_eq "$distinct" 400 "each exactly once (no duplicates between nodes)"
# both nodes did part of the work
na=$(grep -c 'event=attempt' "$SG_TMP/$SG_TEST.a.log" || true)
nb=$(grep -c 'event=attempt' "$SG_TMP/$SG_TEST.b.log" || true)
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] || fail "one node did nothing (a=$na b=$nb)"
ok "work shared: node a $na attempts, node b $nb"

# kill -9 node a's delivery role in the middle of a load
rm -f "$T"/sink/*
smtp-source -s 5 -m 300 -f "$sender" -t z@nodes.test 127.0.0.1:$PA &
s3=$!
sleep 0.5
dpid=$(sed -n 's/.* delivery\[\([0-9]*\)\] level=info event=delivery_ready.*/\1/p' "$SG_TMP/$SG_TEST.a.log" | tail -1)
[ -n "$dpid" ] && kill -0 "$dpid" || fail "no delivery role pid"
kill -KILL "$dpid"
ok "killed delivery role $dpid"
wait $s3 || fail "smtp-source failed"
wait_drained 90
total=$(sink_ids | wc -l)
distinct=$(sink_ids | sort -u | wc -l)
acked=$(psql_sg -c "SELECT count(*) FROM messages WHERE mail_from = '$sender'")
assert_eq "$acked" 700 "all 700 messages were queued"
assert_eq "$distinct" 300 "all 300 messages of the killed run arrived"
ok "duplicates after the kill: $((total - distinct)) (allowed: at-least-once)"
grep -q 'event=role_died role=delivery' "$SG_TMP/$SG_TEST.a.log" || fail "supervisor did not see the delivery role die"
ok "the supervisor restarted the delivery role"
