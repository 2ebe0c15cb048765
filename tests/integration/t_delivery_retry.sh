#!/bin/sh
# t_delivery_retry - outcomes through the whole gateway: 4xx then 2xx
# (deferred, retried, delivered), 5xx (bounced with a DSN), the queue
# lifetime turning a deferral into a bounce, the smart host, and a backlog
# to one domain sent over ONE connection (a delivery-only node started on
# a queue filled by an ingress-only node).
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
R1=$((P + 3))
R2=$((P + 4))
R3=$((P + 5))
CLOSED=$((P + 6))

fake_recv flaky 127.0.0.1 $R1 --fail rcpt:451:1
fake_recv reject 127.0.0.1 $R2 --fail rcpt:550
fake_recv smart 127.0.0.1 $R3

gw_config gw $P <<CONF
roles = ingress delivery
routes = flaky.test=[127.0.0.1]:$R1, reject.test=[127.0.0.1]:$R2, dead.test=[127.0.0.1]:$CLOSED, sender.test=[127.0.0.1]:$R3
smart_host = [127.0.0.1]:$R3
delivery_retry_min = 1s
delivery_retry_max = 1s
max_queue_lifetime = 3s
CONF
gw_start gw $P

send() {	# from to
	swaks --server 127.0.0.1:$P --from "$1" --to "$2" 2>&1 |
	    sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p'
}
state_of() {
	psql_sg -c "SELECT state FROM recipients WHERE message_id = '$1'"
}
wait_state() {	# id state [secs]
	_i=0
	while [ "$(state_of "$1")" != "$2" ]; do
		_i=$((_i + 1))
		[ $_i -lt $((${3:-10} * 10)) ] || fail "$1 not $2 but $(state_of "$1"): $(sg gw log --message "$1")"
		sleep 0.1
	done
}
outcomes() {
	sg gw log --message "$1" --json | python3 -c "import json,sys; print(' '.join(a['outcome'] for a in json.load(sys.stdin)))"
}

id=$(send a@sender.test x@flaky.test)
wait_state "$id" delivered
assert_eq "$(outcomes "$id")" "deferred delivered" "451 then 250: deferred, retried, delivered"

id=$(send a@sender.test y@reject.test)
wait_state "$id" bounced
assert_eq "$(outcomes "$id")" "bounced" "550: bounced at once"
_i=0
until grep -l "report-type=delivery-status" "$T"/smart.mail/*.eml >/dev/null 2>&1; do
	_i=$((_i + 1)); [ $_i -lt 100 ] || fail "no DSN reached the sender's server"
	sleep 0.1
done
grep -q "Final-Recipient: rfc822; y@reject.test" "$T"/smart.mail/*.eml || fail "DSN does not name the recipient"
ok "DSN delivered to the sender"

id=$(send a@sender.test z@dead.test)
wait_state "$id" bounced 15
out=$(outcomes "$id")
assert_contains "$out" "deferred" "unreachable: deferred first"
assert_contains "$(sg gw log --message "$id")" "max_queue_lifetime" "bounced once older than max_queue_lifetime"

id=$(send a@sender.test w@anywhere.example)
wait_state "$id" delivered
assert_eq "$(sg gw log --message "$id" --json | python3 -c "import json,sys; print(json.load(sys.stdin)[-1]['mx_addr'])")" 127.0.0.1 "no route: the smart host got it"

# a backlog of 5 messages to one domain goes over one connection
gw_stop gw
gw_config in $P <<CONF
roles = ingress
CONF
gw_start in $P
before=$(grep -c "EVENT connect" "$T/smart.log")
for i in 1 2 3 4 5; do
	[ -n "$(send a@sender.test "r$i@batch.example")" ] || fail "not queued"
done
gw_stop in
gw_config out $((P + 10)) <<CONF
roles = delivery
smart_host = [127.0.0.1]:$R3
delivery_workers = 1
CONF
"$SG_BIN" -c "$T/out.conf" serve >>"$SG_TMP/$SG_TEST.out.log" 2>&1 &
bg_track $!
_i=0
while [ "$(psql_sg -c "SELECT count(*) FROM recipients WHERE rcpt LIKE 'r_@batch.example' AND state = 'delivered'")" != 5 ]; do
	_i=$((_i + 1)); [ $_i -lt 100 ] || fail "backlog not delivered"
	sleep 0.1
done
after=$(grep -c "EVENT connect" "$T/smart.log")
assert_eq "$((after - before))" 1 "5 queued messages to one domain: one connection"
