#!/bin/sh
# t_tls_rpt - TLS-RPT (RFC 8460) daily reports sent by the prober role:
#   yesterday's session counts of rpt.test (recorded with
#   tls_rpt_record(), as delivery does) -> one report to each rua of its
#   _smtp._tls TXT record:
#     mailto: a multipart/report; report-type="tlsrpt" message in OUR
#       queue with the gzipped JSON attached (parsed by Python's email)
#     https: a POST of application/tlsrpt+gzip to a local HTTPS server
#       (test CA), which gunzips and checks the JSON
#   both carry the same report: the counts as recorded, today's not in it
#   a domain without a TLS-RPT record: no report (status no-rua)
#   a restarted prober sends nothing twice
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$SG_PORT_BASE
HP=$((P + 4))
HTTPS=$SG_TOP/tests/integration/receivers/tlsrpt_https.py
REC=$SG_TOP/${BUILD:-build}/tools/tlsrpt_record
[ -x "$REC" ] || REC=$(dirname "$SG_BIN")/tools/tlsrpt_record
[ -x "$REC" ] || fail "tlsrpt_record not built"
CI="host=$SG_VAR/pg/sock port=$SG_PG_PORT dbname=$SG_DB user=sealgate"

Z=$T/zones
mkdir -p "$Z"
cat >"$Z/rpt.test.zone" <<EOF
@ MX 10 mx.rpt.test.
mx A 127.0.0.50
report A 127.0.0.51
_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@rpt.test,https://report.rpt.test:$HP/v1/tlsrpt"
EOF
cat >"$Z/rpt-none.test.zone" <<EOF
@ MX 10 mx.rpt-none.test.
mx A 127.0.0.52
EOF
dns_start $((P + 1)) "$Z"

C=$T/certs
mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 30 -subj "/CN=sealgate tlsrpt test CA" -keyout "$C/ca.key" \
    -out "$C/ca.pem" 2>/dev/null || fail "CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=report.rpt.test" -keyout "$C/web.key" -out "$C/web.csr" \
    2>/dev/null || fail "csr"
printf 'subjectAltName=DNS:report.rpt.test\n' >"$C/ext"
openssl x509 -req -in "$C/web.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
    -CAcreateserial -days 30 -extfile "$C/ext" -out "$C/web.pem" \
    2>/dev/null || fail "leaf"

python3 "$HTTPS" --addr 127.0.0.51 --port $HP --cert "$C/web.pem" \
    --key "$C/web.key" --out "$T/posted" --log "$T/https.log" \
    --ready "$T/https.ready" >"$T/https.err" 2>&1 &
bg_track $!
i=0
while [ ! -f "$T/https.ready" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$T/https.err"; fail "HTTPS receiver"; }
	sleep 0.1
done

gw_config gw $P <<CONF
roles = ingress prober
dns_forwarders = $SG_DNS
dns_allow_zones = test
delivery_ca_file = $C/ca.pem
tls_rpt_org_name = Sealgate Test Org
tls_rpt_contact = tls-admin@mx.test
CONF
sg gw migrate >/dev/null || fail "migrate"

# yesterday (UTC, noon) and today
now=$(date -u +%s)
yday=$(date -u -d @$((now - 86400)) +%Y-%m-%d)
ynoon=$(date -u -d "$yday 12:00:00" +%s)
ystart=$(date -u -d "$yday 00:00:00" +%s)
POL="version: STSv1|mode: enforce|mx: mx.rpt.test|max_age: 86400"
"$REC" "$CI" rpt.test sts success mx.rpt.test $ynoon 5 "$POL" mx.rpt.test || fail "record"
"$REC" "$CI" rpt.test sts starttls-not-supported mx.rpt.test $ynoon 2 "$POL" mx.rpt.test || fail "record"
"$REC" "$CI" rpt.test sts certificate-expired mx.rpt.test $ynoon 1 "$POL" mx.rpt.test || fail "record"
"$REC" "$CI" rpt.test no-policy-found success mx.rpt.test $ynoon 3 || fail "record"
"$REC" "$CI" rpt.test sts success mx.rpt.test 0 4 "$POL" mx.rpt.test || fail "record today"
"$REC" "$CI" rpt-none.test no-policy-found success mx.rpt-none.test $ynoon 1 || fail "record"
assert_eq "$(psql_sg -c "SELECT sum(sessions) FROM tls_rpt_counts WHERE policy_domain = 'rpt.test' AND day = '$yday'")" 11 "counts recorded for yesterday"
assert_eq "$(psql_sg -c "SELECT count(*) FROM tls_rpt_counts WHERE policy_domain = 'rpt.test' AND day = '$yday' AND result_type = ''")" 2 "one row per policy and result (upsert)"

gw_start gw $P
wait_log gw 'event=tls_rpt domain=rpt.test ' 1 30 ||
    fail "no report for rpt.test: $(tail -5 "$(gw_log gw)")"
grep 'event=tls_rpt domain=rpt.test ' "$(gw_log gw)" | grep -Eq "day=$yday status=sent report_id=[^ ]+@mx.test rua=2 delivered=2 success=8 failure=3" ||
    fail "report line: $(grep 'event=tls_rpt' "$(gw_log gw)")"
ok "prober: yesterday's report sent to both rua URIs"
wait_log gw 'event=tls_rpt domain=rpt-none.test .*status=no-rua' 1 10 ||
    fail "rpt-none.test: $(grep 'event=tls_rpt' "$(gw_log gw)")"
ok "a domain without a TLS-RPT record gets no report"
assert_eq "$(psql_sg -c "SELECT status FROM tls_rpt_reports WHERE policy_domain = 'rpt.test' AND day = '$yday'")" sent "report row: sent"

# --- https: one POST, application/tlsrpt+gzip, valid JSON -----------------
assert_eq "$(grep -c 'status=201' "$T/https.log")" 1 "one HTTPS POST accepted"
grep -q '^POST /v1/tlsrpt ct=application/tlsrpt+gzip' "$T/https.log" || fail "POST line: $(cat "$T/https.log")"
python3 - "$T/posted/001.json" "$yday" "$ystart" <<'EOF' || fail "the POSTed report"
import json, sys, datetime
j = json.load(open(sys.argv[1]))
day, start = sys.argv[2], int(sys.argv[3])
assert j["organization-name"] == "Sealgate Test Org", j
assert j["contact-info"] == "tls-admin@mx.test", j
assert j["report-id"].endswith("@mx.test"), j["report-id"]
assert j["date-range"] == {"start-datetime": day + "T00:00:00Z",
                           "end-datetime": day + "T23:59:59Z"}, j["date-range"]
pols = {p["policy"]["policy-type"]: p for p in j["policies"]}
assert set(pols) == {"sts", "no-policy-found"}, pols.keys()
sts = pols["sts"]
assert sts["policy"]["policy-domain"] == "rpt.test"
assert sts["policy"]["policy-string"] == ["version: STSv1", "mode: enforce",
    "mx: mx.rpt.test", "max_age: 86400"], sts["policy"]
assert sts["policy"]["mx-host"] == ["mx.rpt.test"]
assert sts["summary"] == {"total-successful-session-count": 5,
                          "total-failure-session-count": 3}, sts["summary"]
fd = {f["result-type"]: f for f in sts["failure-details"]}
assert fd["starttls-not-supported"]["failed-session-count"] == 2
assert fd["certificate-expired"]["failed-session-count"] == 1
assert fd["certificate-expired"]["receiving-mx-hostname"] == "mx.rpt.test"
assert fd["certificate-expired"]["receiving-ip"] == "127.0.0.1"
assert fd["certificate-expired"]["sending-mta-ip"] == "127.0.0.2"
npf = pols["no-policy-found"]
assert "policy-string" not in npf["policy"]
assert npf["summary"]["total-successful-session-count"] == 3
EOF
ok "HTTPS report: RFC 8460 JSON with yesterday's counts, today's left out"

# --- mailto: the report mail in our own queue ------------------------------
id=$(psql_sg -c "SELECT r.message_id FROM recipients r JOIN messages m ON m.id = r.message_id WHERE r.rcpt = 'tlsrpt@rpt.test' AND m.mail_from = 'tlsrpt-noreply@mx.test'")
[ -n "$id" ] || fail "no report mail queued"
assert_eq "$(printf '%s\n' "$id" | wc -l)" 1 "one report mail queued"
sg gw queue show "$id" --raw >"$T/report.eml" || fail "queue show --raw"
python3 - "$T/report.eml" "$T/posted/001.json" "$yday" <<'EOF' || fail "the mailed report"
import email, email.policy, gzip, json, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
assert m.get_content_type() == "multipart/report", m.get_content_type()
assert m.get_param("report-type") == "tlsrpt"
assert m["To"].addresses[0].addr_spec == "tlsrpt@rpt.test", m["To"]
assert m["TLS-Report-Domain"] == "rpt.test"
assert m["TLS-Report-Submitter"] == "mx.test"
assert str(m["Subject"]).startswith("Report Domain: rpt.test Submitter: mx.test Report-ID: <"), m["Subject"]
parts = list(m.iter_parts())
att = [p for p in parts if p.get_content_type() == "application/tlsrpt+gzip"]
assert len(att) == 1
fn = att[0].get_filename()
assert fn.startswith("mx.test!rpt.test!") and fn.endswith(".json.gz"), fn
j = json.loads(gzip.decompress(att[0].get_content()))
h = json.load(open(sys.argv[2]))
assert j == h, "the mailed and the POSTed report differ"
assert j["report-id"] in str(m["Subject"])
EOF
ok "mailto report: multipart/report in our queue, same JSON as the POST"

# --- no second report after a restart -------------------------------------
gw_stop gw
gw_start gw $P
wait_log gw 'event=prober_ready' 2 15 || fail "prober restart"
sleep 2
assert_eq "$(grep -c 'status=201' "$T/https.log")" 1 "restart: nothing POSTed twice"
assert_eq "$(grep -c 'event=tls_rpt domain=rpt.test ' "$(gw_log gw)")" 1 "restart: no second report"
