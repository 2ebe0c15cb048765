#!/bin/sh
# t_smoke - the gateway starts, answers EHLO, queues one message.
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
gw_config gw $P </dev/null
gw_start gw $P
out=$(swaks --server 127.0.0.1:$P --from a@example.org --to b@example.com 2>&1)
assert_contains "$out" "250 2.0.0 Ok: queued as" "swaks message accepted"
id=$(echo "$out" | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p')
assert_eq "$(psql_sg -c "SELECT count(*) FROM recipients WHERE message_id = '$id'")" 1 "recipient row committed"
