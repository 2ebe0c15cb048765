#!/bin/sh
# t_wkd - OpenPGP Web Key Directory lookup (gateway/wkd.c) against a real
# DNS server and real HTTPS servers, driven by tests/tools/wkd_get
# (wkd_fetch()):
#   - names come from the test DNS server only (tests/dns/zones/
#     wkd.test.zone; curl could not resolve .test names itself), the keys
#     from https_wkd.py on 127.0.87.x:443 with a test CA
#   - keys made with gpg --quick-gen-key, placed at the hu/ paths that an
#     independent z-base-32 implementation (below) computes; the fetched
#     bytes must equal gpg --export (cmp)
#   - advanced method: the request's path, l= parameter, Host and SNI,
#     TLS >= 1.2; the domain's own server is not asked
#   - direct method when openpgpkey.DOMAIN is NXDOMAIN, and when it
#     exists without an address
#   - the subdomain answers 404: no key, and no direct request
#   - HTTP 500, a server too slow, a body over 64 KiB (Content-Length
#     and chunked) and exactly 64 KiB, a certificate from another CA
#   - redirects: to another https host (resolved by our resolver), to
#     http, to an IP literal, to a name without address, in a loop
#   - NXDOMAIN domain: none; SERVFAIL: tempfail; a bad address
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$SG_PORT_BASE
DNSP=$((P + 1))
HTTPS=$SG_TOP/tests/integration/receivers/https_wkd.py
BDIR=$(dirname "$SG_BIN")
GET=$BDIR/tools/wkd_get

# the driver (built with the other test tools by `make integration`)
[ -x "$GET" ] || fail "$GET not built (make $(basename "$BDIR")/tools/wkd_get)"

# wkd_hash LOCAL - the hu/ name: z-base-32 of the SHA-1 of the local part
# with ASCII A-Z lower-cased (draft-koch-openpgp-webkey-service 3.1),
# written independently of gateway/wkd.c
wkd_hash() {
	python3 - "$1" <<'EOF'
import hashlib, sys
A = "ybndrfg8ejkmcpqxot1uwisza345h769"
low = bytes(c + 32 if 65 <= c <= 90 else c
            for c in sys.argv[1].encode("utf-8"))
d = int.from_bytes(hashlib.sha1(low).digest(), "big")
print("".join(A[(d >> (155 - 5 * i)) & 31] for i in range(32)))
EOF
}
H_JOE=$(wkd_hash Joe.Doe)
assert_eq "$H_JOE" iy9q119eutrkn8s1mk4r39qejnbu3n5q "z-base-32 helper: the draft's vector"
H_BOB=$(wkd_hash Bob+WKD)
H_CAROL=$(wkd_hash carol)
WKS=$(gpgconf --list-dirs libexecdir 2>/dev/null)/gpg-wks-client
if [ -x "$WKS" ]; then
	assert_eq "$(echo 'Bob+WKD@direct.wkd.test' | "$WKS" --print-wkd-hash | cut -d' ' -f1)" \
	    "$H_BOB" "z-base-32 helper agrees with gpg-wks-client"
fi

# --- keys: a throwaway GnuPG home; the agent is stopped right after
export GNUPGHOME="$T/gnupg"
mkdir -p "$GNUPGHOME" "$T/keys"
chmod 700 "$GNUPGHOME"
gpg_stop() {
	gpgconf --homedir "$GNUPGHOME" --kill gpg-agent >/dev/null 2>&1 || true
}
mkkey() {	# NAME UID_ADDRESS
	gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
	    --quick-gen-key "WKD test <$2>" future-default default 1d \
	    >"$T/keys/$1.log" 2>&1 ||
	    { cat "$T/keys/$1.log" >&2; gpg_stop; fail "gpg --quick-gen-key $2"; }
	gpg --batch --export "<$2>" >"$T/keys/$1.gpg" ||
	    { gpg_stop; fail "gpg --export $2"; }
	[ -s "$T/keys/$1.gpg" ] || { gpg_stop; fail "empty export of $2"; }
}
mkkey joe joe.doe@adv.wkd.test
mkkey bob bob+wkd@direct.wkd.test
mkkey carol carol@nodata.wkd.test
mkkey decoy decoy@nokey.wkd.test
gpg_stop
ok "keys generated and exported"

# --- certificates: the test CA for every name; another CA for badca
test_ca "$T/ca"
test_ca "$T/ca2"
SAN=DNS:openpgpkey.adv.wkd.test,DNS:adv.wkd.test,DNS:direct.wkd.test
SAN=$SAN,DNS:nodata.wkd.test,DNS:openpgpkey.nokey.wkd.test,DNS:nokey.wkd.test
for s in err big redir; do
	SAN=$SAN,DNS:openpgpkey.$s.wkd.test
done
test_leaf "$T/ca" good "$SAN"
test_leaf "$T/ca2" badca DNS:openpgpkey.badca.wkd.test

# --- sites: site NAME [CERT] - DIR $T/site-NAME with a document root
site() {
	_d=$T/site-$1
	mkdir -p "$_d/root"
	cp "$T/${3:-ca}/${2:-good}.pem" "$_d/cert.pem"
	cp "$T/${3:-ca}/${2:-good}.key" "$_d/key.pem"
	: >"$_d/response"
}
# put NAME PATH KEY - KEY's export at PATH of site NAME
put() {
	mkdir -p "$(dirname "$T/site-$1/root$2")"
	cp "$T/keys/$3.gpg" "$T/site-$1/root$2"
}
WK=/.well-known/openpgpkey
site adv
site advdirect
site direct
site nokey
site nokeydirect
site err
site big
site badca badca ca2
site redir
put adv "$WK/adv.wkd.test/hu/$H_JOE" joe
# decoys: a wrong method would find these
put advdirect "$WK/hu/$H_JOE" decoy
put nokeydirect "$WK/hu/$H_JOE" decoy
put direct "$WK/hu/$H_BOB" bob
put direct "$WK/hu/$H_CAROL" carol
put badca "$WK/badca.wkd.test/hu/$H_JOE" joe

python3 "$HTTPS" --ready "$T/https.ready" \
    --site "127.0.87.1:443:$T/site-adv" \
    --site "127.0.87.11:443:$T/site-advdirect" \
    --site "127.0.87.2:443:$T/site-direct" \
    --site "127.0.87.3:443:$T/site-nokey" \
    --site "127.0.87.13:443:$T/site-nokeydirect" \
    --site "127.0.87.4:443:$T/site-err" \
    --site "127.0.87.5:443:$T/site-big" \
    --site "127.0.87.6:443:$T/site-badca" \
    --site "127.0.87.7:443:$T/site-redir" >"$T/https.err" 2>&1 &
bg_track $!
i=0
while [ ! -f "$T/https.ready" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/https.err" >&2; fail "https_wkd.py did not start (port 443 needs root)"; }
	sleep 0.1
done

dns_start "$DNSP"

# --- helpers
# run_wkd WANT_EXIT ADDRESS [wkd_get options] - output in $T/get.out, the
# key (if any) in $T/got.gpg
run_wkd() {
	_want=$1 _addr=$2
	shift 2
	rm -f "$T/got.gpg"
	_rc=0
	"$GET" --dns "$SG_DNS" --ca "$T/ca/ca.pem" --timeout 5 \
	    --out "$T/got.gpg" "$@" "$_addr" >"$T/get.out" 2>"$T/get.err" ||
	    _rc=$?
	sed 's/^/    /' "$T/get.out"
	if grep -E -q 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/get.err"; then
		cat "$T/get.err" >&2
		fail "sanitizer report from wkd_get $_addr"
	fi
	[ "$_rc" = "$_want" ] ||
	    { cat "$T/get.out" "$T/get.err" >&2; fail "wkd_get $_addr: exit $_rc, want $_want"; }
}
hits() {	# SITE - requests the site has seen
	if [ -f "$T/site-$1/requests.log" ]; then
		wc -l <"$T/site-$1/requests.log" | tr -d ' '
	else
		echo 0
	fi
}
last_req() {	# SITE
	tail -1 "$T/site-$1/requests.log"
}
resp() {	# SITE key=value... - the site's answers from now on
	: >"$T/site-$1/response"
	_s=$1
	shift
	for _kv in "$@"; do
		echo "$_kv" >>"$T/site-$_s/response"
	done
}
same_key() {	# KEY WHAT - the fetched bytes are KEY's export
	cmp -s "$T/got.gpg" "$T/keys/$1.gpg" ||
	    fail "$2: fetched bytes differ from gpg --export"
	ok "$2: fetched bytes equal gpg --export"
}
out() {
	cat "$T/get.out"
}

# (a) advanced method
run_wkd 0 Joe.Doe@Adv.WKD.test
assert_eq "$(out | cut -d' ' -f1-3)" \
    "found method=advanced bytes=$(wc -c <"$T/keys/joe.gpg" | tr -d ' ')" \
    "advanced: found"
same_key joe "advanced"
gpg --batch --with-colons --show-keys "$T/got.gpg" 2>/dev/null |
    grep -q '^uid:.*<joe.doe@adv.wkd.test>' || fail "advanced: gpg does not see the user ID"
ok "advanced: gpg reads the key and its user ID"
assert_eq "$(hits adv)" 1 "advanced: one request"
req=$(last_req adv)
assert_contains "$req" \
    "GET $WK/adv.wkd.test/hu/$H_JOE?l=Joe.Doe host=openpgpkey.adv.wkd.test sni=openpgpkey.adv.wkd.test tls=TLSv1." \
    "advanced: path with the lower-cased domain, l= as given, Host and SNI"
case "$req" in
*tls=TLSv1.2|*tls=TLSv1.3) ok "advanced: TLS >= 1.2" ;;
*) fail "TLS version in: $req" ;;
esac
assert_eq "$(hits advdirect)" 0 "advanced: the domain's own server not asked"

# (b) direct method: no openpgpkey subdomain
run_wkd 0 Bob+WKD@direct.wkd.test
assert_eq "$(out | cut -d' ' -f1-2)" "found method=direct" "direct (NXDOMAIN subdomain): found"
same_key bob "direct"
assert_contains "$(last_req direct)" \
    "GET $WK/hu/$H_BOB?l=Bob%2BWKD host=direct.wkd.test sni=direct.wkd.test" \
    "direct: path, l= percent-encoded, Host and SNI"

run_wkd 0 carol@nodata.wkd.test
assert_eq "$(out | cut -d' ' -f1-2)" "found method=direct" "direct (subdomain without address): found"
same_key carol "direct after NODATA"

# (c) the subdomain exists, 404: no key, no direct request
run_wkd 1 Joe.Doe@nokey.wkd.test
assert_eq "$(out | cut -d' ' -f1-2)" "none method=advanced" "404: none"
assert_contains "$(out)" "openpgpkey.nokey.wkd.test: HTTP 404" "404: why"
assert_eq "$(hits nokey) $(hits nokeydirect)" "1 0" "404: the direct method not tried"

# (d) HTTP 500, and too slow
resp err status=500
run_wkd 2 Joe.Doe@err.wkd.test
assert_eq "$(out | cut -d' ' -f1-2)" "tempfail method=advanced" "500: tempfail"
assert_contains "$(out)" "openpgpkey.err.wkd.test: HTTP 500" "500: why"
resp err delay=4
run_wkd 2 Joe.Doe@err.wkd.test --timeout 2
assert_contains "$(out)" "timed out" "too slow: tempfail, timed out"

# (e) the 64 KiB cap, counted as bytes arrive
resp big size=65537
run_wkd 2 Joe.Doe@big.wkd.test
assert_contains "$(out)" "tempfail method=advanced why=openpgpkey.big.wkd.test: key larger than 65536 bytes" \
    "65537 bytes (Content-Length): tempfail"
resp big size=65537 chunked=1
run_wkd 2 Joe.Doe@big.wkd.test
assert_contains "$(out)" "key larger than 65536 bytes" "65537 bytes (chunked): tempfail"
[ ! -e "$T/got.gpg" ] || fail "oversized: something was written"
resp big size=65536 chunked=1
run_wkd 0 Joe.Doe@big.wkd.test
assert_eq "$(out | cut -d' ' -f1-3)" "found method=advanced bytes=65536" "exactly 65536 bytes (chunked): found"
resp big size=65536
run_wkd 0 Joe.Doe@big.wkd.test
assert_eq "$(wc -c <"$T/got.gpg" | tr -d ' ')" 65536 "exactly 65536 bytes (Content-Length): all written"

# (f) a certificate from another CA
run_wkd 2 Joe.Doe@badca.wkd.test
assert_contains "$(out)" "openpgpkey.badca.wkd.test: TLS certificate verification failed" \
    "another CA: tempfail"
[ ! -e "$T/got.gpg" ] || fail "another CA: a key was written"
# the same server with its own CA: the key (so it was the CA that failed)
run_wkd 0 Joe.Doe@badca.wkd.test --ca "$T/ca2/ca.pem"
same_key joe "another CA, trusted: found"

# (g) NXDOMAIN domain, SERVFAIL
run_wkd 1 someone@nx.wkd.test
assert_eq "$(out | cut -d' ' -f1-2)" "none method=direct" "NXDOMAIN: none"
assert_contains "$(out)" "neither openpgpkey.nx.wkd.test nor nx.wkd.test has an address" "NXDOMAIN: why"
run_wkd 2 someone@refused.test
assert_contains "$(out)" "tempfail method=advanced why=openpgpkey.refused.test: DNS lookup failed" \
    "SERVFAIL: tempfail"

# redirects: followed over https, each host through our resolver
a0=$(hits adv)
resp redir "location=https://openpgpkey.adv.wkd.test$WK/adv.wkd.test/hu/$H_JOE?l=Joe.Doe"
run_wkd 0 Joe.Doe@redir.wkd.test
assert_eq "$(out | cut -d' ' -f1-2)" "found method=advanced" "redirect to another https host: found"
same_key joe "redirect"
assert_eq "$(hits redir) $(hits adv)" "1 $((a0 + 1))" "redirect: one request each"
assert_contains "$(last_req redir)" "GET $WK/redir.wkd.test/hu/$H_JOE?l=Joe.Doe host=openpgpkey.redir.wkd.test" \
    "redirect: the first request"

resp redir "location=http://openpgpkey.adv.wkd.test$WK/adv.wkd.test/hu/$H_JOE"
run_wkd 2 Joe.Doe@redir.wkd.test
assert_contains "$(out)" "refused: not https" "redirect to http: refused"
assert_eq "$(hits adv)" $((a0 + 1)) "redirect to http: not followed"

resp redir "location=https://127.0.87.1$WK/adv.wkd.test/hu/$H_JOE"
run_wkd 2 Joe.Doe@redir.wkd.test
assert_contains "$(out)" "refused: host is not a host name" "redirect to an IP literal: refused"

resp redir "location=https://gone.wkd.test/key"
run_wkd 2 Joe.Doe@redir.wkd.test
assert_contains "$(out)" "redirect target gone.wkd.test: no address" "redirect to a name without address"

r0=$(hits redir)
resp redir "location=https://openpgpkey.redir.wkd.test/again"
run_wkd 2 Joe.Doe@redir.wkd.test
assert_contains "$(out)" "more than 3 redirects" "redirect loop: tempfail"
assert_eq "$(hits redir)" $((r0 + 4)) "redirect loop: 3 redirects followed, then stopped"
assert_eq "$(hits adv)" $((a0 + 1)) "redirects: nothing else asked"

# a bad address: no lookup at all
run_wkd 2 "no-at-sign"
assert_contains "$(out)" "is not an address" "bad address: refused"
