#!/bin/sh
# t_dns - the DNS module against a real DNS server: the private test
# server (scripts/dns-test-server.sh, unbound) starts in well under a
# second, serves the zones of tests/dns/zones/ as dig and delv see them
# (DNSSEC-signed secure.test validates, bogus.test does not), takes
# extra zones per test, and build/tests/test_dns runs all its real-server
# cases against it, none skipped. The server is gone after stop.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$((SG_PORT_BASE + 1))
P2=$((SG_PORT_BASE + 2))
TEST_DNS=$(dirname "$SG_BIN")/tests/test_dns
[ -x "$TEST_DNS" ] || fail "$TEST_DNS not built (make $TEST_DNS)"

t0=$(date +%s%N)
dns_start $P
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# about 0.2 s on an idle machine; the bound leaves room for a busy one
[ $ms -lt 1500 ] || fail "DNS server took $ms ms to start"
ok "DNS server answers $ms ms after start"
pid=$(cat "$SG_DNS_DIR/unbound.pid")
kill -0 "$pid" || fail "no unbound process $pid"

# q NAME TYPE - dig's short answer, lower case (DNS names keep the case
# of one of their spellings in the zone), sorted, on one line
q() {
	dig +short +time=2 +tries=1 @127.0.0.1 -p $P "$1" "$2" |
	    grep -v '^RRSIG ' | tr 'A-Z' 'a-z' | sort | tr '\n' ' ' |
	    sed 's/ $//'
}

# rcode NAME TYPE - dig's status (NOERROR, NXDOMAIN, REFUSED...)
rcode() {
	dig +time=2 +tries=1 @127.0.0.1 -p $P "$1" "$2" |
	    sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}

# what the unit tests' table expects the zones to say
assert_eq "$(q plain.test MX)" "10 mx1.plain.test." "plain.test MX"
assert_eq "$(q mx1.plain.test A)" "127.0.0.21" "mx1.plain.test A"
assert_eq "$(q tls.test MX)" "10 mx.tls.test." "tls.test MX"
assert_eq "$(q mx.tls.test A)" "127.0.0.22" "mx.tls.test A"
assert_eq "$(q multi.test MX)" \
    "10 mxa.multi.test. 10 mxb.multi.test. 5 mx0.multi.test." "multi.test MX"
assert_eq "$(q mx0.multi.test A)" "127.0.0.30" "mx0.multi.test A"
assert_eq "$(q mxa.multi.test A)" "127.0.0.31" "mxa.multi.test A"
assert_eq "$(q mxb.multi.test A)" "127.0.0.32 127.0.0.33" "mxb.multi.test A"
assert_eq "$(q nullmx.test MX)" "0 ." "nullmx.test null MX"
assert_eq "$(q nullmulti.test MX)" "0 . 10 mx.nullmulti.test." \
    "nullmulti.test MX"
assert_eq "$(q nomx.test MX)" "" "nomx.test has no MX"
assert_eq "$(rcode nomx.test MX)" NOERROR "nomx.test MX is NODATA"
assert_eq "$(q nomx.test A)" "127.0.0.25" "nomx.test A (implicit MX)"
assert_eq "$(q empty.test MX)$(q empty.test A)$(q empty.test AAAA)" "" \
    "empty.test: no MX, A or AAAA"
assert_eq "$(rcode nxdomain.test MX)" NXDOMAIN "nxdomain.test NXDOMAIN"
assert_eq "$(rcode nx.plain.test A)" NXDOMAIN "nx.plain.test NXDOMAIN"
assert_eq "$(q v6.test MX)" "10 mx.v6.test." "v6.test MX"
assert_eq "$(q mx.v6.test AAAA)" "::1" "mx.v6.test AAAA"
assert_eq "$(q mx.v6.test A)" "" "mx.v6.test has no A"
assert_eq "$(q mx.dual.v6.test A) $(q mx.dual.v6.test AAAA)" "127.0.0.26 ::1" \
    "mx.dual.v6.test A and AAAA"
assert_eq "$(q dup.odd.test MX)" "10 mx.dup.odd.test. 20 mx.dup.odd.test. 30 mx.dup.odd.test." \
    "dup.odd.test MX"
assert_eq "$(q literal.odd.test MX)" "10 192.0.2.1. 20 mx.literal.odd.test." \
    "literal.odd.test MX"
assert_eq "$(rcode gone.partial.odd.test A)" NXDOMAIN "partial: one MX host gone"
assert_eq "$(q alias.cname.odd.test A)" "127.0.0.43 real.cname.odd.test." \
    "alias.cname.odd.test CNAME"
assert_eq "$(rcode refused.test MX)" REFUSED "refused.test REFUSED"
assert_eq "$(rcode example.com A)" REFUSED "names outside .test REFUSED at once"

# DNSSEC, checked by delv (BIND's validator), not by libunbound
assert_eq "$(grep -c '[[:space:]]DS[[:space:]]' "$SG_DNS_TA")" 2 "trust anchor file has 2 DS"
dv() {	# ZONE NAME TYPE - delv's verdict with the test anchors
	delv @127.0.0.1 -p $P -a "$SG_DNS_DIR/trust-anchors.conf" \
	    +root="$1" "$2" "$3" 2>&1 | grep -E '^; (fully|unsigned|negative)|resolution failed' |
	    head -1
}
assert_eq "$(dv secure.test secure.test MX)" "; fully validated" \
    "delv: secure.test MX validates"
assert_eq "$(dv secure.test mx.secure.test A)" "; fully validated" \
    "delv: mx.secure.test A validates"
assert_contains "$(dv secure.test nx.secure.test MX)" "ncache nxdomain" \
    "delv: nx.secure.test is NXDOMAIN"
assert_contains "$(dv bogus.test bogus.test MX)" "broken trust chain" \
    "delv: bogus.test fails validation"

# a test's own zones: a new one, and one replacing a default zone
mkdir -p "$T/zones"
printf '@\tMX\t10 mx.extra.test.\nmx\tA\t127.0.0.60\n' >"$T/zones/extra.test.zone"
printf '@\tMX\t20 other.plain.test.\nother\tA\t127.0.0.61\n' \
    >"$T/zones/plain.test.zone"
dns_start $P2 "$T/zones"
d2() {
	dig +short +time=2 +tries=1 @127.0.0.1 -p $P2 "$1" "$2" | sort |
	    tr '\n' ' ' | sed 's/ $//'
}
assert_eq "$(d2 extra.test MX)" "10 mx.extra.test." "extra zone served"
assert_eq "$(d2 mx.extra.test A)" "127.0.0.60" "extra zone A"
assert_eq "$(d2 plain.test MX)" "20 other.plain.test." "default zone replaced"
assert_eq "$(d2 multi.test MX | wc -w)" 6 "other default zones still there"
dns_stop $P2
SG_DNS=127.0.0.1@$P
SG_DNS_TA=$T/dns.$P/ta.keys

# the unit tests' real-server cases, none skipped
out=$(SEALGATE_TEST_DNS=$SG_DNS SEALGATE_TEST_DNS_TA=$SG_DNS_TA \
    "$TEST_DNS" 2>&1) || {
	printf '%s\n' "$out" >&2
	fail "test_dns against the test server"
}
printf '%s\n' "$out" | grep -E '^\[  (PASSED|FAILED|SKIPPED) ' | sed 's/^/    /'
assert_not_contains "$out" "SKIPPED" "test_dns: no case skipped"
assert_contains "$out" "PASSED" "test_dns: real-server cases pass"
for c in test_server_mx_table test_server_mx_shuffle \
    test_server_test_tld_blocked test_server_lookup_host test_server_dnssec \
    test_server_dnssec_no_anchor; do
	assert_contains "$out" "[       OK ] $c" "test_dns: $c ran"
done

dns_stop $P
[ ! -e "$SG_DNS_DIR/unbound.pid" ] || fail "pid file left behind"
kill -0 "$pid" 2>/dev/null && fail "unbound $pid still running after stop"
assert_eq "$(dig +short +time=1 +tries=1 @127.0.0.1 -p $P plain.test MX 2>/dev/null |
    grep -c 'mx1' || true)" 0 "server gone after stop"
