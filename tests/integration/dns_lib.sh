# dns_lib.sh - the private test DNS server for integration tests; source
# it after lib.sh. Zones: tests/dns/zones/ (see scripts/dns-test-server.sh
# for the format and how a test adds its own).
#
#   dns_start PORT [SOURCE...]  start a server on 127.0.0.1:PORT in
#                               $T/dns.PORT with the default zones plus
#                               SOURCE (NAME.zone / NAME.conf files or
#                               directories of them); sets
#     SG_DNS       "127.0.0.1@PORT" (a dns_conf forwarder)
#     SG_DNS_TA    its trust anchor file (DS of the signed zones)
#     SG_DNS_DIR   its directory (unbound.log, trust-anchors.conf)
#   dns_stop PORT               stop it (also done when the test exits)
#
# Every server started is stopped when the test exits, before lib.sh's
# cleanup_gateways runs.
DNS_DIRS=""

dns_start() {
	_ds_port=$1
	shift
	_ds_dir=$T/dns.$_ds_port
	DNS_DIRS="$DNS_DIRS $_ds_dir"
	"$SG_TOP/scripts/dns-test-server.sh" start "$_ds_dir" "$_ds_port" \
	    "$@" >"$T/dns.$_ds_port.out" 2>&1 || {
		cat "$T/dns.$_ds_port.out" >&2
		fail "test DNS server on port $_ds_port did not start"
	}
	SG_DNS=127.0.0.1@$_ds_port
	SG_DNS_TA=$_ds_dir/ta.keys
	SG_DNS_DIR=$_ds_dir
}

dns_stop() {
	"$SG_TOP/scripts/dns-test-server.sh" stop "$T/dns.$1"
}

dns_stop_all() {
	for _ds_dir in $DNS_DIRS; do
		"$SG_TOP/scripts/dns-test-server.sh" stop "$_ds_dir" || true
	done
	DNS_DIRS=""
}

trap 'dns_stop_all; cleanup_gateways' EXIT
