#!/bin/sh
# t_mta_sts - MTA-STS (gateway/mta_sts.c) against a real DNS server and
# real HTTPS servers, driven by tests/tools/mtasts_get (mta_sts_get()
# with the run's PostgreSQL as the cache):
#   - the TXT id and mta-sts.DOMAIN come from the test DNS server only
#     (.test names: curl could not resolve them itself), the policy from
#     https_policy.py on 127.0.83.x:443 with a test CA
#   - a valid enforce policy is fetched, cached (mta_sts_policies) and its
#     mx patterns match as RFC 8461 4.1 says
#   - the same id is served from the cache: the server sees no request
#   - a new id is fetched again
#   - malformed, oversized (Content-Length and chunked), wrong
#     Content-Type (and none), redirect, 404, expired certificate, wrong
#     CA, wrong name, TLS 1.1 only, too slow: the fetch fails, the
#     failure is recorded, and the cached policy stays in use
#   - a failed id is not fetched again for 300 s, then it is
#   - no TXT record: the cached policy stays in use; once it has expired
#     and the fetch fails, there is no policy
#   - refresh after a day (also a failed one keeps the cache)
#   - no TXT, several STS records, an invalid one, a bogus or failed TXT
#     lookup, no address, a subdomain of a policy domain: no policy, no
#     request
#   - a TXT record split into several character-strings among others
# Time moves with mtasts_get --now; certificates are checked against the
# real clock.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$SG_PORT_BASE
DNSP=$((P + 1))
HTTPS=$SG_TOP/tests/integration/receivers/https_policy.py
BDIR=$(dirname "$SG_BIN")
GET=$BDIR/tools/mtasts_get
CONNINFO="host=$SG_VAR/pg/sock port=$SG_PG_PORT dbname=$SG_DB user=sealgate"

# --- the driver: the Makefile rule, else a direct build
get_fresh() {
	[ -x "$GET" ] && [ ! "$SG_TOP/tests/tools/mtasts_get.c" -nt "$GET" ] &&
	    [ ! "$BDIR/libsg.a" -nt "$GET" ]
}
build_get() {
	(cd "$SG_TOP" && make --no-print-directory BUILD="$(basename "$BDIR")" \
	    "$(basename "$BDIR")/tools/mtasts_get") >"$T/build.log" 2>&1 &&
	    get_fresh && return 0
	san=""
	nm "$BDIR/libsg.a" 2>/dev/null | grep -q __asan_ &&
	    san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	mkdir -p "$BDIR/tools"
	# shellcheck disable=SC2086
	cc -std=gnu11 -Wall -Wextra -Werror -g $san -I"$SG_TOP" \
	    -I"$SG_TOP/gateway" -I"$SG_TOP/db" -I"$SG_TOP/crypto" \
	    $(pkg-config --cflags libpq 2>/dev/null) \
	    -o "$GET" "$SG_TOP/tests/tools/mtasts_get.c" "$BDIR/libsg.a" \
	    $(pkg-config --libs openssl libpq 2>/dev/null) -lunbound -lcurl \
	    -lz -lpthread >>"$T/build.log" 2>&1
}
if ! get_fresh; then
	build_get || { cat "$T/build.log" >&2; fail "cannot build $GET"; }
fi

# --- the schema, through the gateway's own migrate
gw_config gw "$P" </dev/null
sg gw migrate >"$T/migrate.out" 2>&1 || { cat "$T/migrate.out" >&2; fail "migrate"; }
psql_sg -c "DELETE FROM mta_sts_policies" >/dev/null || fail "no mta_sts_policies table"
ok "migrations applied, mta_sts_policies empty"

# --- certificates: test CA; good (every mta-sts name), expired and
# wrong-name leaves from it; a leaf from another CA
C=$T/certs
mkdir -p "$C/new"
: >"$C/index.txt"
echo 1000 >"$C/serial"
cat >"$C/ca.cnf" <<EOF
[ ca ]
default_ca = tca
[ tca ]
database = $C/index.txt
new_certs_dir = $C/new
serial = $C/serial
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
[ pol ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \$ENV::SAN
EOF
mkca() {	# NAME
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -days 30 -subj "/CN=sealgate test CA $1" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -keyout "$C/$1.key" -out "$C/$1.pem" 2>/dev/null || fail "CA $1"
}
mkca ca
mkca otherca
leaf() {	# NAME CA SAN [openssl ca date options]
	_n=$1 _ca=$2 _san=$3
	shift 3
	_cn=${_san#DNS:}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=${_cn%%,*}" -keyout "$C/$_n.key" -out "$C/$_n.csr" \
	    2>/dev/null || fail "key $_n"
	SAN=$_san openssl ca -batch -config "$C/ca.cnf" -extensions leaf \
	    -cert "$C/$_ca.pem" -keyfile "$C/$_ca.key" -in "$C/$_n.csr" \
	    -out "$C/$_n.pem" -notext "$@" >"$C/$_n.log" 2>&1 ||
	    { cat "$C/$_n.log" >&2; fail "certificate $_n"; }
}
ALLSAN=DNS:mta-sts.sts-a.test,DNS:mta-sts.sub.sts-a.test
for d in sts-none sts-multi sts-bad sts-split; do
	ALLSAN=$ALLSAN,DNS:mta-sts.$d.test
done
leaf good ca "$ALLSAN" -days 30
leaf expired ca DNS:mta-sts.sts-a.test -startdate 20200101000000Z \
    -enddate 20200201000000Z
leaf wrongname ca DNS:mta-sts.other.test -days 30
leaf wrongca otherca DNS:mta-sts.sts-a.test -days 30

# --- DNS: one zone per test domain; sts-a.test's TXT id changes
Z=$T/zones
mkdir -p "$Z"
cat >"$Z/sts-none.test.zone" <<'EOF'
; sts-none.test - a policy server but no _mta-sts TXT record
@		MX	10 mx.sts-none.test.
mta-sts		A	127.0.83.2
_smtp._tls	TXT	"v=TLSRPTv1; rua=mailto:tls@sts-none.test"
EOF
cat >"$Z/sts-multi.test.zone" <<'EOF'
; sts-multi.test - two STS records: no policy (RFC 8461 3.1)
_mta-sts	TXT	"v=STSv1; id=one;"
_mta-sts	TXT	"v=STSv1; id=two;"
mta-sts		A	127.0.83.3
EOF
cat >"$Z/sts-bad.test.zone" <<'EOF'
; sts-bad.test - the only STS record is malformed (id too long)
_mta-sts	TXT	"v=STSv1; id=abcdefghijklmnopqrstuvwxyz0123456;"
mta-sts		A	127.0.83.6
EOF
cat >"$Z/sts-split.test.zone" <<'EOF'
; sts-split.test - the STS record in three character-strings, next to
; records that are not STS
_mta-sts	TXT	"v=STS" "v1; i" "d=split1;"
_mta-sts	TXT	"v=spf1 -all"
_mta-sts	TXT	"v=STSv10; id=other;"
mta-sts		A	127.0.83.4
EOF
cat >"$Z/sts-bogus.test.zone" <<'EOF'
; sts-bogus.test - signed, but the trust anchor is another key: the TXT
; answer is bogus
; dns-test-server: sign bogus
_mta-sts	TXT	"v=STSv1; id=bogus1;"
mta-sts		A	127.0.83.8
EOF
cat >"$Z/sts-noaddr.test.zone" <<'EOF'
; sts-noaddr.test - a valid TXT record, but mta-sts has no address
_mta-sts	TXT	"v=STSv1; id=noaddr1;"
@		MX	10 mx.sts-noaddr.test.
mx		A	127.0.83.7
EOF
# set_txt ID - sts-a.test with TXT id ID ("" none), and (re)start DNS
DNS_UP=0
set_txt() {
	{
		echo "; sts-a.test - generated by t_mta_sts"
		[ -z "$1" ] || printf '_mta-sts\tTXT\t"v=STSv1; id=%s;"\n' "$1"
		printf 'mta-sts\tA\t127.0.83.1\n'
		printf '@\tMX\t10 mx.sts-a.test.\n'
		printf 'mx\tA\t127.0.83.1\n'
		# the subdomain has a server but no TXT record of its own
		printf 'mta-sts.sub\tA\t127.0.83.5\n'
		printf 'sub\tMX\t10 mx.sts-a.test.\n'
	} >"$Z/sts-a.test.zone"
	[ "$DNS_UP" = 0 ] || dns_stop "$DNSP"
	dns_start "$DNSP" "$Z"
	DNS_UP=1
}

# --- HTTPS policy servers, one per address
SA=$T/site-a
site() {	# DIR - a site with the good certificate and a default policy
	mkdir -p "$1"
	cp "$C/good.pem" "$1/cert.pem"
	cp "$C/good.key" "$1/key.pem"
	: >"$1/response"
	printf 'version: STSv1\nmode: enforce\nmx: mx.%s\nmax_age: 86400\n' \
	    "$2" >"$1/policy.txt"
}
site "$SA" sts-a.test
site "$T/site-none" sts-none.test
site "$T/site-multi" sts-multi.test
site "$T/site-split" sts-split.test
site "$T/site-sub" sub.sts-a.test
site "$T/site-bad" sts-bad.test
printf 'version: STSv1\r\nmode: testing\r\nmx: mx.sts-split.test\r\nmax_age: 3600\r\n' \
    >"$T/site-split/policy.txt"
python3 "$HTTPS" --ready "$T/https.ready" \
    --site "127.0.83.1:443:$SA" --site "127.0.83.2:443:$T/site-none" \
    --site "127.0.83.3:443:$T/site-multi" \
    --site "127.0.83.4:443:$T/site-split" \
    --site "127.0.83.5:443:$T/site-sub" \
    --site "127.0.83.6:443:$T/site-bad" >"$T/https.err" 2>&1 &
bg_track $!
i=0
while [ ! -f "$T/https.ready" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/https.err" >&2; fail "https_policy.py did not start (port 443 needs root)"; }
	sleep 0.1
done

# --- helpers
# run_get NOW DOMAIN [mtasts_get options] - output in $T/get.out
run_get() {
	_now=$1 _dom=$2
	shift 2
	"$GET" --dns "$SG_DNS" --ta "$SG_DNS_TA" --db "$CONNINFO" \
	    --ca "$C/ca.pem" --timeout 5 --now "$_now" "$@" "$_dom" >"$T/get.out" 2>"$T/get.err" ||
	    { cat "$T/get.out" "$T/get.err" >&2; fail "mtasts_get $_dom"; }
	if grep -E -q 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/get.err"; then
		cat "$T/get.err" >&2
		fail "sanitizer report from mtasts_get $_dom"
	fi
	sed 's/^/    /' "$T/get.out"
}
val() {	# KEY - from the last run_get
	sed -n "s/^$1=//p" "$T/get.out" | head -1
}
hits() {	# SITE_DIR - requests the site has seen
	if [ -f "$1/requests.log" ]; then
		wc -l <"$1/requests.log" | tr -d ' '
	else
		echo 0
	fi
}
row() {	# DOMAIN COLUMNS - one row of mta_sts_policies, '|'-separated
	psql_sg -c "SELECT $2 FROM mta_sts_policies WHERE domain = '$1'"
}
# expect RESULT FROM_CACHE ID WHAT - the last run_get
expect() {
	assert_eq "$(val result) $(val from_cache) $(val id)" "$1 $2 $3" "$4"
}
resp() {	# key=value... - site A's next answers (none: the defaults)
	: >"$SA/response"
	for _kv in "$@"; do
		echo "$_kv" >>"$SA/response"
	done
}
cert() {	# NAME - site A's certificate from now on
	cp "$C/$1.pem" "$SA/cert.pem"
	cp "$C/$1.key" "$SA/key.pem"
}

T0=$(date +%s)

# 1. a valid enforce policy: fetched and cached
printf 'version: STSv1\nmode: enforce\nmx: mx.sts-a.test\nmx: *.mx.sts-a.test\nmax_age: 604800\n' \
    >"$SA/policy.txt"
set_txt a1
run_get "$T0" sts-a.test --match mx.sts-a.test --match a.mx.sts-a.test \
    --match a.b.mx.sts-a.test --match MX.STS-A.TEST. --match sts-a.test \
    --match mx.sts-a.test.evil.test
expect policy 0 a1 "first lookup: fetched"
assert_eq "$(val mode) $(val max_age)" "enforce 604800" "mode and max_age"
assert_eq "$(val mx)" "mx.sts-a.test *.mx.sts-a.test" "mx patterns"
assert_eq "$(val match.mx.sts-a.test) $(val match.a.mx.sts-a.test) $(val match.a.b.mx.sts-a.test) $(val match.MX.STS-A.TEST.) $(val match.sts-a.test) $(val match.mx.sts-a.test.evil.test)" \
    "1 1 0 1 0 0" "mx matching: exact, one-label wildcard, case, trailing dot"
assert_eq "$(val fetched_at) $(val expires_at)" "$T0 $((T0 + 604800))" "fetched_at, expires_at"
assert_contains "$(val why)" "not cached before" "why: first fetch"
assert_eq "$(hits "$SA")" 1 "one request"
req=$(head -1 "$SA/requests.log")
assert_contains "$req" "GET /.well-known/mta-sts.txt host=mta-sts.sts-a.test sni=mta-sts.sts-a.test tls=TLSv1." \
    "request: path, Host and SNI mta-sts.sts-a.test"
case "$req" in
*tls=TLSv1.2|*tls=TLSv1.3) ok "TLS >= 1.2" ;;
*) fail "TLS version in: $req" ;;
esac
assert_eq "$(row sts-a.test "policy_id, mode, array_to_string(mx, ' '), max_age, extract(epoch FROM fetched_at)::bigint, extract(epoch FROM expires_at - fetched_at)::bigint, last_error IS NULL, failed_id IS NULL")" \
    "a1|enforce|mx.sts-a.test *.mx.sts-a.test|604800|$T0|604800|t|t" "cache row"
assert_eq "$(row sts-a.test "policy_text")" "$(cat "$SA/policy.txt")" "policy text stored"

# 2. same id: from the cache, the server is not asked
run_get $((T0 + 60)) sts-a.test
expect policy 1 a1 "same id: from the cache"
assert_eq "$(hits "$SA")" 1 "no request for a cached policy"
assert_contains "$(val why)" "using cached policy id=a1" "why: cached"
"$GET" --db "$CONNINFO" --cache sts-a.test >"$T/get.out" 2>&1 || fail "--cache"
expect policy 1 a1 "mta_sts_cache_load without network"

# 3. id changed: fetched again
printf 'version: STSv1\nmode: enforce\nmx: mx2.sts-a.test\nmax_age: 604800\n' >"$SA/policy.txt"
set_txt a2
T1=$((T0 + 120))
run_get $T1 sts-a.test
expect policy 0 a2 "id changed: fetched again"
assert_eq "$(val mx)" "mx2.sts-a.test" "the new policy"
assert_contains "$(val why)" "TXT id changed" "why: id changed"
assert_eq "$(hits "$SA")" 2 "second request"

# 4. failing fetches: recorded, the cached policy (a2) stays in use
NOW=$T1
n=2
fail_case() {	# WHAT EXPECTED_IN_WHY - after resp/cert were set
	n=$((n + 1))
	NOW=$((NOW + 10))
	_h=$(hits "$SA")
	set_txt "a$n"
	run_get "$NOW" sts-a.test --timeout 3
	expect policy 1 a2 "$1: cached policy kept"
	assert_eq "$(val mx)" "mx2.sts-a.test" "$1: cached mx"
	assert_contains "$(val why)" "policy fetch failed for TXT id=a$n" "$1: why says fetch failed"
	assert_contains "$(val why)" "$2" "$1: why"
	assert_contains "$(val why)" "using cached policy id=a2" "$1: why says cache used"
	assert_eq "$(row sts-a.test "policy_id, failed_id, last_txt_id, extract(epoch FROM failed_at)::bigint")" \
	    "a2|a$n|a$n|$NOW" "$1: failure recorded, policy kept"
	assert_contains "$(row sts-a.test last_error)" "$2" "$1: last_error"
	resp
	cert good
}
printf 'version: STSv1\nmode: enforcing\nmx: mx3.sts-a.test\nmax_age: 5\n' >"$SA/bad.txt"
resp body=bad.txt
fail_case "malformed policy" 'invalid policy: policy line 2: mode "enforcing"'
resp size=70000
fail_case "oversized (Content-Length)" "policy larger than 65536 bytes"
resp size=70000 chunked=1
fail_case "oversized (chunked)" "policy larger than 65536 bytes"
resp size=65536 status=500
fail_case "65536 bytes, but HTTP 500" "HTTP 500 (want 200)"
resp content_type=text/html
fail_case "Content-Type text/html" 'Content-Type "text/html" is not text/plain'
resp content_type=-
fail_case "no Content-Type" 'Content-Type "" is not text/plain'
resp status=301 location=https://mta-sts.sts-a.test/elsewhere.txt
fail_case "redirect" 'HTTP 301 redirect (not followed, RFC 8461 3.3) to "https://mta-sts.sts-a.test/elsewhere.txt"'
if grep -q elsewhere "$SA/requests.log"; then fail "the redirect was followed"; fi
ok "redirect not followed"
resp status=404
fail_case "HTTP 404" "HTTP 404"
cert expired
fail_case "expired certificate" "TLS certificate verification failed"
assert_contains "$(val why)" "expired" "expired certificate: named"
cert wrongca
fail_case "certificate from another CA" "TLS certificate verification failed"
cert wrongname
fail_case "certificate for another name" "TLS certificate verification failed"
resp tls_max=1.1
fail_case "TLS 1.1 only" "mta-sts.sts-a.test: TLS"
resp delay=6
fail_case "server too slow" "timed out after 3 s"

# 4b. the 65536-byte limit itself passes (a valid, padded policy)
n=$((n + 1)); NOW=$((NOW + 10))
resp size=65536
set_txt "a$n"
run_get "$NOW" sts-a.test
expect policy 0 "a$n" "exactly 65536 bytes: accepted"
assert_eq "$(val mx)" "mx.example.test" "the padded policy"
resp
A_LIMIT=a$n

# 5. a failed id is not fetched again at once, then it is
n=$((n + 1)); NOW=$((NOW + 10))
resp status=503
set_txt "a$n"
h=$(hits "$SA")
run_get "$NOW" sts-a.test
expect policy 1 "$A_LIMIT" "503: cached policy kept"
assert_eq "$(hits "$SA")" $((h + 1)) "503: one request"
resp
run_get $((NOW + 10)) sts-a.test
expect policy 1 "$A_LIMIT" "retry window: cached policy"
assert_contains "$(val why)" "failed recently; not retried before" "why: not retried"
assert_eq "$(hits "$SA")" $((h + 1)) "no request inside the retry window"
assert_contains "$(row sts-a.test last_error)" "HTTP 503" "last_error keeps the fetch error"
NOW=$((NOW + 310))
run_get "$NOW" sts-a.test
expect policy 0 "a$n" "after the retry window: fetched"
assert_eq "$(hits "$SA")" $((h + 2)) "one more request"
assert_eq "$(row sts-a.test "failed_id IS NULL, last_error IS NULL")" "t|t" "success clears the failure"
AID=a$n
T2=$NOW

# 6. no TXT record: the cached policy is kept (RFC 8461 5.1)
set_txt ""
h=$(hits "$SA")
run_get $((T2 + 10)) sts-a.test
expect policy 1 "$AID" "no TXT record: cached policy kept"
assert_contains "$(val why)" "no MTA-STS TXT record; using cached policy id=$AID" "why: no TXT, cache"
assert_eq "$(hits "$SA")" "$h" "no request without a TXT record"
assert_eq "$(row sts-a.test "last_txt_id IS NULL, last_error")" "t|no MTA-STS TXT record" "check recorded"

# 7. refresh once the cached copy is a day old; a failed refresh keeps it
set_txt "$AID"
T3=$((T2 + 86400 + 10))
run_get $T3 sts-a.test
expect policy 0 "$AID" "a day later: refreshed"
assert_contains "$(val why)" "(refresh)" "why: refresh"
assert_eq "$(hits "$SA")" $((h + 1)) "refresh: one request"
resp status=500
run_get $((T3 + 86400 + 10)) sts-a.test
expect policy 1 "$AID" "failed refresh: cached policy kept"
assert_contains "$(val why)" "HTTP 500" "failed refresh: why"
assert_eq "$(hits "$SA")" $((h + 2)) "failed refresh: one request"
run_get $((T3 + 86400 + 20)) sts-a.test
expect policy 1 "$AID" "refresh failed recently: cached"
assert_contains "$(val why)" "refresh failed recently" "why: refresh not retried yet"
assert_eq "$(hits "$SA")" $((h + 2)) "failed refresh: not retried at once"

# 8. expired cache and a failing fetch: no policy; then fetched again
run_get $((T3 + 604800 + 10)) sts-a.test
expect none 0 "" "expired cache, fetch fails: no policy"
assert_contains "$(val why)" "policy fetch failed for TXT id=$AID" "why: fetch failed, nothing cached"
assert_not_contains "$(val why)" "using cached" "expired policy not used"
resp
run_get $((T3 + 604800 + 400)) sts-a.test
expect policy 0 "$AID" "expired cache: fetched again"
assert_contains "$(val why)" "cached copy expired" "why: expired"

# 9. other domains
snap=$(hits "$SA")
run_get "$T0" sub.sts-a.test
expect none 0 "" "subdomain of a policy domain: no policy"
assert_contains "$(val why)" "no MTA-STS TXT record" "subdomain: why"
assert_eq "$(hits "$T/site-sub") $(hits "$SA")" "0 $snap" "subdomain: no request anywhere"

run_get "$T0" sts-none.test
expect none 0 "" "no TXT record: no policy"
assert_eq "$(hits "$T/site-none")" 0 "no TXT record: no request"

run_get "$T0" sts-multi.test
expect none 0 "" "two STS records: no policy"
assert_contains "$(val why)" "2 v=STSv1 TXT records" "two STS records: why"
assert_eq "$(hits "$T/site-multi")" 0 "two STS records: no request"

run_get "$T0" sts-bad.test
expect none 0 "" "malformed TXT record: no policy"
assert_contains "$(val why)" "invalid MTA-STS TXT record" "malformed TXT: why"
assert_eq "$(hits "$T/site-bad")" 0 "malformed TXT: no request"

run_get "$T0" sts-nxdomain.test
expect none 0 "" "NXDOMAIN: no policy"

run_get "$T0" sts-bogus.test
expect none 0 "" "DNSSEC-bogus TXT record: no policy"
assert_contains "$(val why)" "MTA-STS TXT lookup failed (DNSSEC bogus)" "bogus: why"

run_get "$T0" refused.test
expect none 0 "" "TXT lookup SERVFAIL: no policy"
assert_contains "$(val why)" "MTA-STS TXT lookup failed (temporary)" "SERVFAIL: why"

run_get "$T0" sts-noaddr.test
expect none 0 "" "no address for mta-sts: no policy"
assert_contains "$(val why)" "mta-sts.sts-noaddr.test: no address" "no address: why"
assert_eq "$(row sts-noaddr.test "policy_id IS NULL, failed_id")" "t|noaddr1" "no address: failure recorded"

run_get "$T0" sts-split.test --match mx.sts-split.test
expect policy 0 split1 "TXT in three strings among other records"
assert_eq "$(val mode) $(val max_age) $(val match.mx.sts-split.test)" "testing 3600 1" "CRLF policy, mode testing"
assert_eq "$(hits "$T/site-split")" 1 "split: one request"
run_get $((T0 + 5)) STS-Split.Test.
expect policy 1 split1 "domain case and trailing dot: the same cache row"

assert_eq "$(psql_sg -c "SELECT string_agg(domain, ' ' ORDER BY domain) FROM mta_sts_policies")" \
    "sts-a.test sts-noaddr.test sts-split.test" "rows only for domains with an STS record"

# 10. the cache table: a failed write keeps the answer, a failed read is
# an error (never "no policy": a cached enforce policy may exist)
psql_sg -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "test trigger"
CREATE FUNCTION t_mta_sts_ro() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 't_mta_sts: read-only row'; END $$;
CREATE TRIGGER t_mta_sts_ro BEFORE UPDATE ON mta_sts_policies FOR EACH ROW
    WHEN (OLD.domain = 'sts-split.test') EXECUTE FUNCTION t_mta_sts_ro();
SQL
run_get $((T0 + 10)) sts-split.test
expect policy 1 split1 "failed cache write: the answer stands"
assert_contains "$(val why)" "cache not updated: " "failed cache write: why"
assert_contains "$(val why)" "t_mta_sts: read-only row" "failed cache write: the database error"
psql_sg -c "DROP TRIGGER t_mta_sts_ro ON mta_sts_policies" >/dev/null
psql_sg -c "DROP FUNCTION t_mta_sts_ro()" >/dev/null
psql_sg -c "ALTER TABLE mta_sts_policies RENAME TO t_mta_sts_away" >/dev/null
rc=0
"$GET" --dns "$SG_DNS" --db "$CONNINFO" --now "$T0" sts-split.test \
    >"$T/get.out" 2>&1 || rc=$?
psql_sg -c "ALTER TABLE t_mta_sts_away RENAME TO mta_sts_policies" >/dev/null
assert_eq "$rc $(val result)" "1 error" "unreadable cache: an error, not \"no policy\""
assert_contains "$(val why)" "mta_sts_policies: " "unreadable cache: why"
