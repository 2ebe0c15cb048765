#!/bin/sh
# t_policy - the policy engine end to end: local DNS, receivers on
# 127.0.86.x, the whole gateway (ingress, prober, delivery), real gpg,
# openssl cms and gpgsm to open what arrives.
#   TLS domain, ordinary mail: delivered over TLS, method plain
#   rule tls,pgp,smime,escrow, domain without STARTTLS, PGP key imported:
#     PGP/MIME arrives, gpg --decrypt gives the body byte for byte, the
#     real Subject only inside, the outer one "..."
#   same rule, S/MIME certificate only: S/MIME (AES-256-GCM) that
#     openssl cms -decrypt opens
#   a harvested certificate (signed mail from dave) without GCM in its
#     capabilities: S/MIME in AES-256-CBC that gpgsm --decrypt opens
#   a [secure] Subject to the TLS domain: escrowed (deferred until the
#     portal exists), the TLS receiver gets nothing
#   forced-TLS domain that strips STARTTLS: nothing in plaintext
#   mixed recipients: one message, each gets its own correct copy
#   mail already encrypted by its sender: sent as is, not re-encrypted
#   key substitution: a harvested certificate that differs from the
#     admin's waits for review, is used only after `key approve`
#   sealgate rule / key / policy preview
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$SG_PORT_BASE
R=$((P + 3))

C=$T/certs
test_ca "$C"
test_leaf "$C" mx.tls.pol.test DNS:mx.tls.pol.test

# --- S/MIME certificates (RSA 2048: gpgsm 2.2 reads RSA) from the CA
smime_cert() {	# NAME ADDRESS
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" \
	    -keyout "$C/$1.key" -out "$C/$1.csr" 2>/dev/null || fail "csr $1"
	cat >"$C/$1.ext" <<EXT
subjectAltName=email:$2
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=emailProtection
EXT
	openssl x509 -req -in "$C/$1.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" \
	    -CAcreateserial -days 30 -extfile "$C/$1.ext" -out "$C/$1.pem" \
	    2>/dev/null || fail "cert $1"
}
smime_cert carol carol@smime.pol.test
smime_cert carol2 carol@smime.pol.test
smime_cert org secure@example.org
smime_cert dave dave@smime.pol.test

# --- a recipient OpenPGP key (alice) and a sender's own (for as-is)
GA=$T/alice-gnupg
mkdir -m 700 -p "$GA"
gpg --homedir "$GA" --batch --quiet --passphrase '' --quick-gen-key \
    alice@pgp.pol.test future-default default never 2>/dev/null ||
    fail "gpg key for alice"
gpg --homedir "$GA" --batch --armor --export alice@pgp.pol.test >"$T/alice.asc"

# --- the organization's signing key, in the gateway's own GnuPG home
GW=$T/gw-gnupg
mkdir -m 700 -p "$GW"
gpg --homedir "$GW" --batch --quiet --passphrase '' --quick-gen-key \
    secure@example.org future-default sign never 2>/dev/null || fail "org key"
ORGFPR=$(gpg --homedir "$GW" --with-colons --fingerprint secure@example.org | awk -F: '/^fpr/ {print $10; exit}')
gpg --homedir "$GW" --batch --armor --export secure@example.org >"$T/org.asc"
gpgconf --homedir "$GW" --kill gpg-agent 2>/dev/null || true
[ "$(id -u)" = 0 ] && chown -R sealgate "$GW"
gpg --homedir "$GA" --batch --quiet --import "$T/org.asc" 2>/dev/null

# --- DNS: every domain's MX on its own loopback address
Z=$T/zones
mkdir -p "$Z"
zone() {	# DOMAIN LASTOCTET
	printf '@\tMX\t10 mx.%s.\nmx\tA\t127.0.86.%s\n' "$1" "$2" >"$Z/$1.zone"
}
zone tls.pol.test 1
zone pgp.pol.test 2
zone smime.pol.test 3
zone forced.pol.test 4
zone wkd.pol.test 5
printf 'openpgpkey\tA\t127.0.86.15\n' >>"$Z/wkd.pol.test.zone"
dns_start $((P + 1)) "$Z"

fake_recv tls 127.0.86.1 $R --cert "$C/mx.tls.pol.test.pem" --key "$C/mx.tls.pol.test.key"
fake_recv pgp 127.0.86.2 $R --no-starttls
fake_recv smime 127.0.86.3 $R --no-starttls
fake_recv forced 127.0.86.4 $R --no-starttls
fake_recv wkd 127.0.86.5 $R --no-starttls

# --- WKD: erin's key at openpgpkey.wkd.pol.test (advanced method)
GE=$T/erin-gnupg
mkdir -m 700 -p "$GE"
gpg --homedir "$GE" --batch --quiet --passphrase '' --quick-gen-key \
    erin@wkd.pol.test future-default default never 2>/dev/null || fail "gpg key for erin"
test_leaf "$C" wkdsite DNS:openpgpkey.wkd.pol.test
W=$T/wkdsite
hu=$(python3 -c "
import hashlib
A = 'ybndrfg8ejkmcpqxot1uwisza345h769'
d = int.from_bytes(hashlib.sha1(b'erin').digest(), 'big')
print(''.join(A[(d >> (155 - 5 * i)) & 31] for i in range(32)))")
mkdir -p "$W/root/.well-known/openpgpkey/wkd.pol.test/hu"
gpg --homedir "$GE" --batch --export erin@wkd.pol.test \
    >"$W/root/.well-known/openpgpkey/wkd.pol.test/hu/$hu"
cp "$C/wkdsite.pem" "$W/cert.pem"
cp "$C/wkdsite.key" "$W/key.pem"
python3 "$SG_TOP/tests/integration/receivers/https_wkd.py" --ready "$T/wkd.ready" \
    --site "127.0.86.15:443:$W" >"$T/wkd.err" 2>&1 &
bg_track $!
i=0
while [ ! -f "$T/wkd.ready" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$T/wkd.err" >&2; fail "https_wkd.py"; }
	sleep 0.1
done

gw_config gw $P <<CONF
roles = ingress delivery prober
dns_forwarders = $SG_DNS
dns_allow_zones = test
delivery_port = $R
delivery_ca_file = $C/ca.pem
delivery_retry_min = 60s
forced_tls_domains = forced.pol.test
smime_harvest = yes
smime_ca_file = $C/ca.pem
pgp_home = $T/gw-gnupg
pgp_sign_key = $ORGFPR
smime_sign_cert = $C/org.pem
smime_sign_key = $C/org.key
wkd = yes
CONF

# --- rules and keys, by the CLI
sg gw migrate >/dev/null || fail "migrate"
out=$(sg gw rule add --to @pgp.pol.test --comment "partner: encrypt") || fail "rule add: $out"
assert_contains "$out" "added" "rule add"
sg gw rule add --to @smime.pol.test >/dev/null || fail "rule add 2"
sg gw rule add --to @wkd.pol.test --chain pgp,escrow >/dev/null || fail "rule add wkd"
sg gw rule add --to '*.example.net' --chain tls --exhausted bounce --position 1 \
    >/dev/null || fail "rule add 3"
list=$(sg gw rule list)
assert_contains "$list" "*.example.net" "rule list shows the TLS-only rule"
first=$(sg gw rule list --json | python3 -c "import json,sys; r=json.load(sys.stdin); print(r[0]['to'], r[0]['chain'], r[0]['exhausted'], len(r))")
assert_eq "$first" "*.example.net tls bounce 4" "--position 1 puts it first"
id3=$(sg gw rule list --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
sg gw rule move "$id3" 3 >/dev/null || fail "rule move"
last=$(sg gw rule list --json | python3 -c "import json,sys; r=json.load(sys.stdin); print(r[2]['id'], [x['position'] for x in r])")
assert_eq "$last" "$id3 [1, 2, 3, 4]" "rule move: third, positions dense"
sg gw rule delete "$id3" >/dev/null || fail "rule delete"
assert_eq "$(sg gw rule list --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" 3 "rule delete"
sg gw rule add --chain bogus,tls >/dev/null 2>&1 && fail "a bad chain was accepted"
sg gw rule add --to 'not a pattern' >/dev/null 2>&1 && fail "a bad pattern was accepted"
ok "bad chains and patterns refused"

out=$(sg gw key import "$T/alice.asc" 2>&1) || fail "key import (pgp): $out"
assert_contains "$out" "alice@pgp.pol.test" "PGP key imported for its user ID"
assert_contains "$out" "active" "an admin import is active"
out=$(sg gw key import "$C/carol.pem" 2>&1) || fail "key import (smime): $out"
assert_contains "$out" "carol@smime.pol.test" "S/MIME certificate imported"
keys=$(sg gw key list --json)
assert_eq "$(echo "$keys" | python3 -c "import json,sys; print(sorted((k['kind'], k['address'], k['source'], k['status']) for k in json.load(sys.stdin)))")" \
    "[('pgp', 'alice@pgp.pol.test', 'admin', 'active'), ('smime', 'carol@smime.pol.test', 'admin', 'active')]" \
    "key list: kind, address, provenance, status"
gpgfpr=$(gpg --homedir "$GA" --with-colons --fingerprint alice@pgp.pol.test | awk -F: '/^fpr/ {print tolower($10); exit}')
assert_contains "$keys" "$gpgfpr" "the stored fingerprint is gpg's"

gw_start gw $P

# --- policy preview (the domains are probed below by delivery; preview
# uses what is known right now)
pv=$(sg gw policy preview --from a@example.org --to alice@pgp.pol.test)
assert_contains "$pv" "pgp" "preview: pgp in the plan for alice"
pv=$(sg gw policy preview --from a@example.org --to x@tls.pol.test --subject "Re: [SECURE] offer")
assert_contains "$pv" "tag [secure]" "preview: the tag is found case-insensitively"
assert_contains "$pv" "escrow" "preview: [secure] escalates to escrow"
pv=$(sg gw policy preview --from a@example.org --to x@tls.pol.test --subject "=?UTF-8?B?W2VuY3J5cHRdIGLDtnNl?=" --json)
assert_eq "$(echo "$pv" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['tag'], d['rule_id'])")" "[encrypt] -1" \
    "preview: a tag inside an RFC 2047 word, the tag's own chain"

# --- sending
send() {	# TO SUBJECT [more swaks args] -> queue id
	_to=$1
	_s=$2
	shift 2
	swaks --server 127.0.0.1:$P --from a@example.org --to "$_to" \
	    --h-Subject "$_s" "$@" 2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p'
}
final() {	# ID RCPT -> outcome of the last attempt (waits for one)
	_i=0
	while [ -z "$(psql_sg -c "SELECT 1 FROM delivery_attempts WHERE message_id = '$1' AND rcpt = '$2' LIMIT 1")" ]; do
		_i=$((_i + 1))
		[ $_i -lt 300 ] || fail "no attempt for $1 to $2"
		sleep 0.1
	done
	psql_sg -c "SELECT outcome || ' ' || method FROM delivery_attempts WHERE message_id = '$1' AND rcpt = '$2' ORDER BY id DESC LIMIT 1"
}
got() {	# RECEIVER MARKER -> file holding the marker
	_i=0
	while :; do
		_f=$(grep -l -- "$2" "$T/$1.mail"/*.eml 2>/dev/null | head -1)
		[ -n "$_f" ] && { echo "$_f"; return; }
		_i=$((_i + 1))
		[ $_i -lt 100 ] || { echo ""; return; }
		sleep 0.1
	done
}

# 1. TLS domain, ordinary mail
id=$(send x@tls.pol.test "plain-1" --body "body-plain-1")
assert_eq "$(final "$id" x@tls.pol.test)" "delivered plain" "TLS domain: delivered, method plain"
assert_eq "$(psql_sg -c "SELECT tls_protocol IS NOT NULL FROM delivery_attempts WHERE message_id = '$id'")" t "over TLS"

# 2. PGP: the body byte for byte
printf 'From: <a@example.org>\r\nTo: <alice@pgp.pol.test>\r\nSubject: quarterly figures\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nline one\r\nl\303\244ne two\r\n.leading dot\r\n' >"$T/pgp-in.eml"
id=$(swaks --server 127.0.0.1:$P --from a@example.org --to alice@pgp.pol.test \
    --data "$T/pgp-in.eml" 2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p')
assert_eq "$(final "$id" alice@pgp.pol.test)" "delivered pgp" "no-TLS domain with a PGP key: pgp"
f=$(got pgp "multipart/encrypted")
[ -n "$f" ] || fail "no PGP/MIME at the receiver"
grep -q "quarterly figures" "$f" && fail "the real Subject is visible outside"
python3 - "$f" "$T/pgp.asc" <<'PY' || fail "outer structure"
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.compat32)
assert m.get_content_type() == 'multipart/encrypted', m.get_content_type()
assert m.get_param('protocol') == 'application/pgp-encrypted'
assert m['Subject'] == '...', m['Subject']
parts = m.get_payload()
assert parts[0].get_content_type() == 'application/pgp-encrypted'
assert 'Version: 1' in parts[0].get_payload()
assert parts[1].get_content_type() == 'application/octet-stream'
open(sys.argv[2], 'w').write(parts[1].get_payload())
PY
ok "PGP/MIME (RFC 3156) parsed by Python's email, outer Subject '...'"
gpg --homedir "$GA" --batch --quiet --status-fd 3 --decrypt "$T/pgp.asc" \
    >"$T/pgp.dec" 2>/dev/null 3>"$T/pgp.status" || fail "gpg --decrypt"
grep -q "VALIDSIG $ORGFPR" "$T/pgp.status" || fail "no valid organization signature: $(cat "$T/pgp.status")"
ok "signed with the organization key (gpg: VALIDSIG $ORGFPR)"
sg gw queue show "$id" --raw >"$T/pgp-queued.eml" || fail "queue show --raw"
grep -q "^l.ne two" "$T/pgp-in.eml" || fail "test input"
python3 - "$T/pgp-queued.eml" "$T/pgp.dec" <<'PY' || fail "decrypted body differs"
import sys
orig = open(sys.argv[1], 'rb').read().split(b'\r\n\r\n', 1)[1]
assert orig.startswith(b'line one\r\nl\xc3\xa4ne two\r\n.leading dot\r\n'), orig
dec = open(sys.argv[2], 'rb').read()
head, body = dec.split(b'\r\n\r\n', 1)
assert body == orig, (body, orig)
assert b'Subject: quarterly figures' in head, head
assert b'protected-headers="v1"' in head, head
PY
ok "gpg --decrypt: body byte for byte, real Subject inside (protected headers)"

# 3. S/MIME, admin certificate, AES-256-GCM, openssl cms
id=$(send carol@smime.pol.test "smime-subject-1" --body "smime body one")
assert_eq "$(final "$id" carol@smime.pol.test)" "delivered smime" "no-TLS domain with a certificate: smime"
f=$(got smime "authEnveloped-data")
[ -n "$f" ] || fail "no AES-256-GCM S/MIME at the receiver"
openssl cms -decrypt -recip "$C/carol.pem" -inkey "$C/carol.key" -in "$f" \
    -out "$T/smime.dec" 2>"$T/cms.err" || fail "openssl cms -decrypt: $(cat "$T/cms.err")"
grep -q "smime body one" "$T/smime.dec" || fail "decrypted S/MIME lacks the body"
ok "openssl cms -decrypt opens the S/MIME (GCM) copy"
openssl cms -verify -CAfile "$C/ca.pem" -purpose any -in "$T/smime.dec" \
    -out "$T/smime.ver" 2>"$T/ver.err" || fail "organization S/MIME signature: $(cat "$T/ver.err")"
grep -q "smime body one" "$T/smime.ver" || fail "verified content lacks the body"
ok "the decrypted entity is signed by the organization certificate (openssl cms -verify)"
python3 - "$f" <<'PY' || fail "S/MIME outer structure"
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
assert m.get_content_type() == 'application/pkcs7-mime', m.get_content_type()
assert m.get_param('smime-type') == 'authEnveloped-data'
PY
ok "application/pkcs7-mime parsed by Python's email"

# 4. harvest: dave signs (no GCM in his capabilities), then gets CBC
printf 'From: <dave@smime.pol.test>\r\nTo: <x@tls.pol.test>\r\nSubject: signed hello\r\n' >"$T/signed.eml"
printf 'Content-Type: text/plain\r\n\r\nsigned body\r\n' >"$T/signed-body.txt"
openssl cms -sign -signer "$C/dave.pem" -inkey "$C/dave.key" -in "$T/signed-body.txt" \
    -binary -crlfeol -nosmimecap -out "$T/signed-part.eml" 2>/dev/null || fail "openssl cms -sign"
cat "$T/signed-part.eml" >>"$T/signed.eml"
id=$(swaks --server 127.0.0.1:$P --from dave@smime.pol.test --to x@tls.pol.test \
    --data "$T/signed.eml" 2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p')
final "$id" x@tls.pol.test >/dev/null
i=0
until sg gw key list --address dave@smime.pol.test | grep -q harvest; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "dave's certificate was not harvested"
	sleep 0.1
done
ok "signed mail: the signer certificate harvested (source harvest)"
id=$(send dave@smime.pol.test "to-dave" --body "cbc body for gpgsm")
assert_eq "$(final "$id" dave@smime.pol.test)" "delivered smime" "harvested certificate used"
f=$(ls "$T/smime.mail"/*.eml | tail -1)
grep -q "authEnveloped" "$f" && fail "dave got GCM though his capabilities do not list it"
GS=$T/gpgsm
mkdir -m 700 -p "$GS"
echo allow-loopback-pinentry >"$GS/gpg-agent.conf"
openssl pkcs12 -export -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 \
    -in "$C/dave.pem" -inkey "$C/dave.key" -out "$T/dave.p12" -passout pass:test 2>/dev/null
echo test | GNUPGHOME=$GS timeout 30 gpgsm --batch --pinentry-mode loopback \
    --passphrase-fd 0 --import "$T/dave.p12" 2>"$T/gpgsm.log" || fail "gpgsm import"
tr -d '\r' <"$f" | sed -n '/^$/,$p' | base64 -d >"$T/dave.p7m"
echo test | GNUPGHOME=$GS timeout 30 gpgsm --batch --pinentry-mode loopback \
    --passphrase-fd 0 --decrypt "$T/dave.p7m" >"$T/dave.dec" 2>>"$T/gpgsm.log" ||
    fail "gpgsm --decrypt: $(cat "$T/gpgsm.log")"
GNUPGHOME=$GS gpgconf --kill gpg-agent 2>/dev/null || true
grep -q "cbc body for gpgsm" "$T/dave.dec" || fail "gpgsm output lacks the body"
ok "gpgsm --decrypt opens the AES-256-CBC copy"

# 5. [secure] to a TLS domain: escrow, nothing delivered
id=$(send y@tls.pol.test "Re: [Secure] contract" --body "escrow-body-5")
assert_eq "$(final "$id" y@tls.pol.test)" "deferred escrow" "[secure]: escrow even though TLS works"
assert_contains "$(psql_sg -c "SELECT reply FROM delivery_attempts WHERE message_id = '$id'")" \
    "escrow is not enabled" "deferred with a clear reason while escrow is off"
sleep 0.5
grep -rl "escrow-body-5" "$T/tls.mail" >/dev/null 2>&1 && fail "the escrowed message reached the TLS receiver"
ok "the escrowed message was not delivered"

# 6. forced TLS, the receiver does not offer STARTTLS: nothing sent
id=$(send z@forced.pol.test "forced-6" --body "forced-body-6")
assert_eq "$(final "$id" z@forced.pol.test)" "deferred plain" "forced-TLS domain without STARTTLS: deferred"
if grep -qE "b'(MAIL|RCPT|DATA)|forced-body" "$T/forced.log"; then
	fail "the forced-TLS domain got something in plaintext: $(cat "$T/forced.log")"
fi
ok "nothing in plaintext to the forced-TLS domain"

# 7. mixed recipients: one message, three methods
id=$(swaks --server 127.0.0.1:$P --from a@example.org \
    --to alice@pgp.pol.test,carol@smime.pol.test,w@tls.pol.test,v@tls.pol.test \
    --h-Subject "mixed-7" --body "mixed-body-7" 2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p')
assert_eq "$(final "$id" alice@pgp.pol.test)" "delivered pgp" "mixed: alice pgp"
assert_eq "$(final "$id" carol@smime.pol.test)" "delivered smime" "mixed: carol smime"
assert_eq "$(final "$id" w@tls.pol.test)" "delivered plain" "mixed: w plain"
assert_eq "$(final "$id" v@tls.pol.test)" "delivered plain" "mixed: v plain"
f=$(got tls "mixed-body-7")
[ -n "$f" ] || fail "the TLS receiver did not get the mixed message"
env=$(cat "${f%.eml}.env")
assert_contains "$env" "w@tls.pol.test" "one transaction for both TLS recipients (w)"
assert_contains "$env" "v@tls.pol.test" "one transaction for both TLS recipients (v)"
grep -q "mixed-body-7" "$T/pgp.mail"/*.eml && fail "plaintext copy at the PGP receiver"
grep -q "mixed-body-7" "$T/smime.mail"/*.eml && fail "plaintext copy at the S/MIME receiver"
ok "each recipient got its own copy; no plaintext where encryption was due"

# 8. already encrypted by the sender: as is
gpg --homedir "$GA" --batch --quiet --armor --trust-model always -r alice@pgp.pol.test \
    --encrypt -o "$T/pre.asc" "$T/signed-body.txt" 2>/dev/null || fail "gpg --encrypt"
python3 - "$T/pre.asc" "$T/pre.eml" <<'PY'
import sys
asc = open(sys.argv[1]).read().replace('\n', '\r\n')
b = 'XyZbOuNdArY'
msg = ('From: <a@example.org>\r\nTo: <alice@pgp.pol.test>\r\nSubject: pre-encrypted-8\r\n'
       'MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="%s"\r\n\r\n'
       '--%s\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n'
       '--%s\r\nContent-Type: application/octet-stream\r\n\r\n%s\r\n--%s--\r\n') % (b, b, b, asc, b)
open(sys.argv[2], 'w', newline='').write(msg)
PY
id=$(swaks --server 127.0.0.1:$P --from a@example.org --to alice@pgp.pol.test \
    --data "$T/pre.eml" 2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p')
assert_eq "$(final "$id" alice@pgp.pol.test)" "delivered as-is" "sender-encrypted: sent as is"
f=$(got pgp "pre-encrypted-8")
[ -n "$f" ] || fail "the pre-encrypted message did not arrive as is (Subject visible)"
grep -q "XyZbOuNdArY" "$f" || fail "the sender's own PGP/MIME structure was changed"
ok "already-encrypted mail is not encrypted again"

# 9. no silent key substitution
printf 'From: <carol@smime.pol.test>\r\nTo: <x@tls.pol.test>\r\nSubject: carol signs\r\n' >"$T/c2.eml"
openssl cms -sign -signer "$C/carol2.pem" -inkey "$C/carol2.key" -in "$T/signed-body.txt" \
    -binary -crlfeol -out "$T/c2-part.eml" 2>/dev/null || fail "sign as carol2"
cat "$T/c2-part.eml" >>"$T/c2.eml"
id=$(swaks --server 127.0.0.1:$P --from carol@smime.pol.test --to x@tls.pol.test \
    --data "$T/c2.eml" 2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p')
final "$id" x@tls.pol.test >/dev/null
i=0
until [ "$(sg gw key list --address carol@smime.pol.test --json | python3 -c "import json,sys; print(sorted((k['source'], k['status']) for k in json.load(sys.stdin)))")" = "[('admin', 'active'), ('harvest', 'pending')]" ]; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "the new certificate is not pending: $(sg gw key list --address carol@smime.pol.test)"
	sleep 0.1
done
ok "a harvested certificate that differs from the one in use is held for review"
id=$(send carol@smime.pol.test "subst-9a" --body "subst body a")
final "$id" carol@smime.pol.test >/dev/null
f=$(ls "$T/smime.mail"/*.eml | tail -1)
openssl cms -decrypt -recip "$C/carol.pem" -inkey "$C/carol.key" -in "$f" 2>/dev/null |
    grep -q "subst body a" || fail "not encrypted to the approved (old) certificate"
ok "until approved, the old certificate is used"
pend=$(sg gw key list --address carol@smime.pol.test --json | python3 -c "import json,sys; print([k['id'] for k in json.load(sys.stdin) if k['status']=='pending'][0])")
sg gw key approve "$pend" >/dev/null || fail "key approve"
sleep 2.2	# the worker's rule/key view is per batch; nothing cached
id=$(send carol@smime.pol.test "subst-9b" --body "subst body b")
final "$id" carol@smime.pol.test >/dev/null
f=$(ls "$T/smime.mail"/*.eml | tail -1)
openssl cms -decrypt -recip "$C/carol2.pem" -inkey "$C/carol2.key" -in "$f" 2>/dev/null |
    grep -q "subst body b" || fail "not encrypted to the approved new certificate"
assert_contains "$(sg gw key list --address carol@smime.pol.test)" "retired" "the old certificate is retired"
ok "after key approve the new certificate is used"

# 10. the audit names the rule and the reason
r=$(psql_sg -c "SELECT rule_id IS NOT NULL, reason FROM delivery_attempts WHERE rcpt = 'alice@pgp.pol.test' AND method = 'pgp' LIMIT 1")
assert_contains "$r" "t|rule" "attempt rows carry the deciding rule"
assert_contains "$r" "tls skipped" "the reason says why tls was skipped"
log=$(sg gw log --recipient alice@pgp.pol.test)
assert_contains "$log" "method=pgp" "sealgate log shows the method"

# 11. WKD: erin's key found by the advanced method, stored, used
printf 'From: <a@example.org>\r\nTo: <erin@wkd.pol.test>\r\nSubject: wkd-11\r\n\r\nwkd body 11\r\n' >"$T/wkd-in.eml"
id=$(swaks --server 127.0.0.1:$P --from a@example.org --to erin@wkd.pol.test \
    --data "$T/wkd-in.eml" 2>&1 | sed -n 's/.*queued as \([0-9A-Z]*\).*/\1/p')
assert_eq "$(final "$id" erin@wkd.pol.test)" "delivered pgp" "WKD key found and used"
grep -q "GET /.well-known/openpgpkey/wkd.pol.test/hu/$hu?l=erin" "$W/requests.log" ||
    fail "no advanced-method request: $(cat "$W/requests.log" 2>/dev/null)"
f=$(got wkd "multipart/encrypted")
python3 - "$f" "$T/wkd.asc" <<'PY' || fail "WKD message structure"
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
open(sys.argv[2], 'w').write(m.get_payload()[1].get_payload())
PY
gpg --homedir "$GE" --batch --quiet --decrypt "$T/wkd.asc" 2>/dev/null | grep -q "wkd body 11" ||
    fail "erin cannot decrypt"
ok "erin decrypts with gpg"
k=$(sg gw key list --address erin@wkd.pol.test --json | python3 -c "import json,sys; k=json.load(sys.stdin)[0]; print(k['source'], k['status'], k['first_used'] > 0)")
assert_eq "$k" "wkd active True" "key list: source wkd, active, first use recorded"
n=$(wc -l <"$W/requests.log")
id=$(send erin@wkd.pol.test "wkd-12" --body "again")
assert_eq "$(final "$id" erin@wkd.pol.test)" "delivered pgp" "second message: the stored key"
assert_eq "$(wc -l <"$W/requests.log")" "$n" "no second WKD request (cached)"

# 13. a tag is removed before delivery (inside the encryption too)
id=$(send alice@pgp.pol.test "Quarterly [ENCRYPT] numbers" --body "tag body 13")
assert_eq "$(final "$id" alice@pgp.pol.test)" "delivered pgp" "[encrypt] tag: pgp"
f=$(ls "$T/pgp.mail"/*.eml | tail -1)
python3 - "$f" "$T/tag.asc" <<'PY'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
open(sys.argv[2], 'w').write(m.get_payload()[1].get_payload())
PY
gpg --homedir "$GA" --batch --quiet --decrypt "$T/tag.asc" >"$T/tag.dec" 2>/dev/null || fail "decrypt tagged"
grep -q "^Subject: Quarterly numbers" "$T/tag.dec" || fail "tag not removed: $(grep Subject "$T/tag.dec")"
grep -qi "encrypt\]" "$T/tag.dec" && fail "the tag is still in the message"
ok "the tag is removed and the Subject re-written (inside the encryption)"
