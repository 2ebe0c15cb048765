#!/bin/sh
# t_portal - the escrow portal end to end against docs/portal.md: the
# whole gateway (ingress, delivery, prober, web) with local DNS, receivers
# on 127.0.88.x, curl for the HTTP contract and Chromium (tests/browser,
# playwright-core) for what a person does.
#   a [secure] message to a domain where TLS works is escrowed: the
#     recipient's server gets only the notification (multipart/
#     alternative, one /enroll?t= link), never the content
#   curl: security headers on every page, CSRF (403, nothing changes),
#     enrollment (password rules, single-use token, 400 for used/bogus),
#     session cookie flags, a new session at every login, logout ends it,
#     no open redirect after login, another user's message is the same
#     404 as none, attachment headers (RFC 6266 names, no text/html,
#     nosniff), the HTML frame's own CSP, a reply to a sender whose
#     server lacks STARTTLS is never sent in plaintext, password reset
#     says the same for every address, recall only while unread,
#     the sender's recall link from the receipt (GET shows the state,
#     never the body; POST withdraws an unread message: 200, the
#     recipient's /m/ID is 404, sealed wiped; after a read: 409; no
#     csrf: 403; a bogus token: 400),
#     login failures say the same for a wrong password and an unknown
#     address, lockout per account and per client address (X-Forwarded-
#     For from an untrusted peer ignored)
#   Chromium: enroll, read, the HTML part in the sandboxed frame,
#     download, reply with a file (it reaches the sender over TLS with
#     the file), inbox, logout, keyboard-only login; a hostile HTML
#     message: no script, handler, javascript: link, form, frame,
#     stylesheet or remote image reaches a listener until "Show images"
#   pg_dump and the logs hold no message content, password or live token
# Screenshots: $T/screenshots (also copied to $SG_SCREENSHOTS, default
# /tmp/sealgate-screenshots/t_portal).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dns_lib.sh"
P=$SG_PORT_BASE		# SMTP (ingress)
DNSP=$((P + 1))		# test DNS
PP=$((P + 2))		# portal (HTTPS)
R=$((P + 3))		# the receivers' SMTP port (delivery_port)
TP=$((P + 4))		# the tracking listener (HTTPS)
export TP
PURL=https://127.0.0.1:$PP
TURL=https://127.0.0.1:$TP
BROWSER_DIR=$SG_TOP/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

ALICE=alice@rcpt.portal.test	# the browser's recipient
BOB=bob@rcpt.portal.test	# curl's recipient
CAROL=carol@rcpt.portal.test	# locked out
DAVE=dave@rcpt.portal.test	# never enrolls: his link stays live
NOBODY=nobody@rcpt.portal.test	# has no account
SAM=sam@sender.portal.test	# sender; his server has STARTTLS
NED=ned@notls.portal.test	# sender; his server has no STARTTLS
PW_ALICE='correct horse alice 1'
PW_BOB='correct horse bob 22'
PW_CAROL='correct horse carol 3'
# in every escrowed message (text, HTML, attachments), never anywhere else
MARK=SGMARK$(python3 -c "import secrets; print(secrets.token_hex(8))")
# in the replies (which are queued as plain messages, by design)
RMARK=SGREPLY$(python3 -c "import secrets; print(secrets.token_hex(8))")

# --- certificates: the portal, the receivers, the tracking listener
C=$T/certs
test_ca "$C"
test_leaf "$C" portal "DNS:portal.test,IP:127.0.0.1"
test_leaf "$C" mx.rcpt "DNS:mx.rcpt.portal.test"
test_leaf "$C" mx.sender "DNS:mx.sender.portal.test"
test_leaf "$C" track "IP:127.0.0.1"

# --- DNS: each domain's MX on its own 127.0.88.x
Z=$T/zones
mkdir -p "$Z"
zone() {	# DOMAIN LASTOCTET
	printf '@\tMX\t10 mx.%s.\nmx\tA\t127.0.88.%s\n' "$1" "$2" >"$Z/$1.zone"
}
zone rcpt.portal.test 1
zone sender.portal.test 2
zone notls.portal.test 3
dns_start $DNSP "$Z"

fake_recv rcpt 127.0.88.1 $R --cert "$C/mx.rcpt.pem" --key "$C/mx.rcpt.key"
fake_recv sender 127.0.88.2 $R --cert "$C/mx.sender.pem" --key "$C/mx.sender.key"
fake_recv notls 127.0.88.3 $R --no-starttls

# --- the tracking listener: every request it gets is a line in
# $T/track.log ("GET /path"); a PNG for track.png, a little for the rest
cat >"$T/track.py" <<'EOF_PY'
import base64, http.server, os, ssl, sys
port, cert, key, log, ready = sys.argv[1:6]
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
class H(http.server.BaseHTTPRequestHandler):
    def hit(self):
        with open(log, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        body, ctype = (PNG, "image/png") if self.path.startswith("/track.png") else (b"x", "text/plain")
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = do_HEAD = do_OPTIONS = hit
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(ready + ".tmp", "w").close()
os.rename(ready + ".tmp", ready)
srv.serve_forever()
EOF_PY
: >"$T/track.log"
python3 "$T/track.py" $TP "$C/track.pem" "$C/track.key" "$T/track.log" "$T/track.ready" \
    >"$T/track.err" 2>&1 &
bg_track $!
i=0
while [ ! -f "$T/track.ready" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$T/track.err" >&2; fail "tracking listener"; }
	sleep 0.1
done
curl -sS --cacert "$C/ca.pem" -o /dev/null "$TURL/selftest" || fail "tracking listener unreachable"
: >"$T/track.log"

# --- the gateway
gw_config gw $P <<CONF
roles = ingress delivery prober web
dns_forwarders = $SG_DNS
dns_allow_zones = test
delivery_port = $R
delivery_ca_file = $C/ca.pem
delivery_retry_min = 60s
escrow = yes
escrow_master_key_file = $T/escrow.key
templates_dir = $SG_TOP/templates
portal_listen = 127.0.0.1:$PP
portal_url = $PURL
portal_tls_cert_file = $C/portal.pem
portal_tls_key_file = $C/portal.key
portal_max_failures = 3
CONF
sg gw migrate >/dev/null || fail "migrate"
out=$(sg gw escrow keygen 2>&1) || fail "sealgate escrow keygen: $out"
[ -f "$T/escrow.key" ] || fail "escrow keygen wrote no $T/escrow.key: $out"
assert_eq "$(stat -c %a "$T/escrow.key")" 600 "escrow keygen: the master key file is 0600"
ksum=$(sha256sum <"$T/escrow.key")
sg gw escrow keygen >/dev/null 2>&1 && fail "escrow keygen overwrote an existing key"
assert_eq "$(sha256sum <"$T/escrow.key")" "$ksum" "escrow keygen refuses to overwrite"
gw_start gw $P
gw_wait_ready gw
# without the portal the mail side (escrow, notifications) is still
# checked; the test stops before the web checks
if wait_port $PP 20; then
	PORTAL_UP=1
	ok "the web role listens on $PP"
else
	PORTAL_UP=0
	fail_later "the portal (web role) did not open port $PP"
fi

# --- the messages (and the files the checks compare with)
python3 - "$T" "$MARK" <<'EOF_PY' || fail "building the test messages"
import base64, email.policy, os, random, sys
from email.message import EmailMessage
T, MARK = sys.argv[1], sys.argv[2]
rnd = random.Random(6266)
att1 = b"%PDF-1.4\n% " + MARK.encode() + b"\n" + bytes(range(256)) + bytes(rnd.getrandbits(8) for _ in range(3000))
att2 = ("<html><body><script>document.title='pwned'</script>attachment "
        + MARK + "</body></html>\n").encode()
open(os.path.join(T, "att1.bin"), "wb").write(att1)
open(os.path.join(T, "att2.bin"), "wb").write(att2)
os.makedirs(os.path.join(T, "upload"), exist_ok=True)
reply_att = ("reply attachment \u00e4\u00f6\u00fc\r\n" + "line\r\n" * 50).encode()
open(os.path.join(T, "upload", "Antwort f\u00fcr Sam.txt"), "wb").write(reply_att)

TEXT = ("Hello,\n\ntext-" + MARK + "\n\nMarkup stays text: <b>not bold</b> & <i>co</i>\n"
        "Gr\u00fc\u00dfe, Sam\n")
HTML = ('<html><head><title>fine</title></head><body>'
        '<p id="html-marker">html-' + MARK + '</p>'
        '<p style="color:#1f4e79">styled inline</p></body></html>\n')
TP = os.environ["TP"]
TRK = "https://127.0.0.1:%s" % TP
CELL = "position:fixed;top:0;width:60px;height:30px;display:block;margin:0;padding:0;z-index:9;background:#fdd;font-size:10px"
HOSTILE = (
 '<html><head><title>hostile</title>'
 '<meta http-equiv="refresh" content="1;url=%(t)s/refresh">'
 '<base href="%(t)s/base/">'
 '<link rel="stylesheet" href="%(t)s/style.css">'
 '<script>window.sgPwned = 1; fetch("%(t)s/script"); new Image().src = "%(t)s/script-img";</script>'
 '</head><body>'
 '<a id="jslink" href="javascript:fetch(\'%(t)s/jslink\')" style="left:0;%(c)s">js</a>'
 '<form action="%(t)s/form" method="get" target="_blank"><input type="hidden" name="q" value="1">'
 '<button id="formbtn" type="submit" style="left:70px;%(c)s">send</button></form>'
 '<a id="toplink" href="%(t)s/toplink" target="_top" style="left:140px;%(c)s">top</a>'
 '<a id="blanklink" href="%(t)s/blanklink" target="_blank" style="left:210px;%(c)s">new</a>'
 '<p id="hostile-visible" style="margin-top:50px">HOSTILE-VISIBLE ' + MARK + '</p>'
 '<img src="x" onerror="fetch(\'%(t)s/onerror\')">'
 '<img src="%(t)s/track.png" width="20" height="20" alt="tracker">'
 '<div style="background-image:url(%(t)s/css-bg)">background</div>'
 '<iframe src="%(t)s/frame"></iframe>'
 '<object data="%(t)s/object"></object>'
 '<video src="%(t)s/video" autoplay></video>'
 '<svg><image href="%(t)s/svg-image"/></svg>'
 '</body></html>\n') % {"t": TRK, "c": CELL}

def msg(name, hdrs, text, html=None, atts=()):
    m = EmailMessage(policy=email.policy.SMTP)
    m.set_content(text, subtype="plain", cte="quoted-printable")
    if html is not None:
        m.add_alternative(html, subtype="html", cte="base64")
    if atts:
        m.make_mixed()
        for data, mt, st, fn in atts:
            m.add_attachment(data, maintype=mt, subtype=st, filename=fn)
    raw = m.as_bytes()
    head = "".join("%s: %s\r\n" % kv for kv in hdrs).encode()
    open(os.path.join(T, name), "wb").write(head + raw)

def hdrs(frm, to, subject, mid):
    return [("From", frm), ("To", "<%s>" % to), ("Subject", subject),
            ("Date", "Mon, 02 Jun 2025 10:00:00 +0000"),
            ("Message-ID", "<%s@sender.portal.test>" % mid)]

ATT1 = "Pr\u00fcfbericht \u03a9mega \u21161.pdf"
ATT2 = "Seite f\u00fcr dich.html"
full = [(att1, "application", "pdf", ATT1), (att2, "text", "html", ATT2)]
SUBJ = "[secure] quarterly =?UTF-8?Q?=C3=9C?= report"
msg("a1.eml", hdrs("Sam Sender <sam@sender.portal.test>", "alice@rcpt.portal.test", SUBJ, "a1"), TEXT, HTML, full)
msg("a2.eml", hdrs("Sam Sender <sam@sender.portal.test>", "alice@rcpt.portal.test", "[secure] hostile html", "a2"),
    "hostile text part " + MARK + "\n", HOSTILE)
msg("b1.eml", hdrs("Ned <ned@notls.portal.test>", "bob@rcpt.portal.test", SUBJ, "b1"), TEXT, HTML, full)
msg("b2.eml", hdrs("Ned <ned@notls.portal.test>", "bob@rcpt.portal.test", "[secure] second for bob", "b2"),
    "second " + MARK + "\n")
msg("c1.eml", hdrs("Sam Sender <sam@sender.portal.test>", "carol@rcpt.portal.test", "[secure] for carol", "c1"),
    "carol " + MARK + "\n")
msg("d1.eml", hdrs("Sam Sender <sam@sender.portal.test>", "dave@rcpt.portal.test", "[secure] for dave", "d1"),
    "dave " + MARK + "\n")
# the RFC 2047 form of a non-ASCII name (what many mail programs send)
p = os.path.join(T, "b1.eml")
b = open(p, "rb").read()
b = b.replace(b"filename*=utf-8''Seite%20f%C3%BCr%20dich.html",
              b'filename="=?UTF-8?Q?Seite_f=C3=BCr_dich.html?="')
open(p, "wb").write(b)
EOF_PY
ATT1_NAME=$(printf 'Pr\303\274fbericht \316\251mega \342\204\2261.pdf')
ATT2_NAME=$(printf 'Seite f\303\274r dich.html')
REPLY_FILE=$(ls "$T/upload/"*)

send() {	# FROM TO FILE - swaks; prints the queue id
	_o=$(swaks --server 127.0.0.1:$P --from "$1" --to "$2" --data "$3" 2>&1) ||
	    fail "swaks $3: $_o"
	_q=$(queued_id "$_o")
	[ -n "$_q" ] || fail "swaks $3: not queued: $_o"
	echo "$_q"
}
# escrowed QID RCPT - wait until the recipient's copy is escrowed; then
# print the escrow id
escrowed() {
	_i=0
	while [ "$(psql_sg -c "SELECT state FROM recipients WHERE message_id = '$1' AND rcpt = '$2'")" != escrowed ]; do
		_i=$((_i + 1))
		[ $_i -lt 300 ] || fail "$1 to $2 not escrowed: $(psql_sg -c "SELECT state, last_reply FROM recipients WHERE message_id = '$1'") $(psql_sg -c "SELECT outcome, method, reply FROM delivery_attempts WHERE message_id = '$1'")"
		sleep 0.1
	done
	_eid=$(psql_sg -c "SELECT m.id FROM escrow_messages m JOIN escrow_users u ON u.id = m.user_id WHERE m.message_id = '$1' AND u.address = '$2'")
	[ -n "$_eid" ] || fail "$1 to $2: escrowed, but no escrow_messages row for the address"
	echo "$_eid"
}
# queued_to ADDR - the queue ids of messages with ADDR as a recipient
# (not the escrow store's own notices: receipts, notifications)
queued_to() {
	psql_sg -c "SELECT r.message_id FROM recipients r JOIN messages m ON m.id = r.message_id WHERE r.rcpt = '$1' AND NOT m.escrow_notice ORDER BY r.id"
}
# norm FILE OUT [STRING...] - FILE without the STRINGs (csrf values,
# addresses): pages compared for sameness
norm() {
	python3 - "$@" <<'EOF_PY'
import sys
d = open(sys.argv[1], "rb").read()
for s in sys.argv[3:]:
    if s:
        d = d.replace(s.encode(), b"")
open(sys.argv[2], "wb").write(d)
EOF_PY
}
# mail_to RECEIVER ADDR [N] - the N-th (default 1st) message RECEIVER got
# for ADDR, waiting up to 30 s; empty if none
mail_to() {
	_i=0
	while :; do
		_f=$(grep -l -i -F "RCPT TO:<$2>" "$T/$1.mail"/*.env 2>/dev/null | sort | sed -n "${3:-1}p")
		[ -n "$_f" ] && { echo "${_f%.env}.eml"; return 0; }
		_i=$((_i + 1))
		[ $_i -lt 300 ] || return 0
		sleep 0.1
	done
}
# mail_with RECEIVER ADDR STRING - the first message RECEIVER got for ADDR
# that holds STRING, waiting up to 30 s; empty if none
mail_with() {
	_i=0
	while :; do
		for _f in $(grep -l -i -F "RCPT TO:<$2>" "$T/$1.mail"/*.env 2>/dev/null | sort); do
			grep -q -F "$3" "${_f%.env}.eml" 2>/dev/null && { echo "${_f%.env}.eml"; return 0; }
		done
		_i=$((_i + 1))
		[ $_i -lt 300 ] || return 0
		sleep 0.1
	done
}
# recall_link RECEIVER ADDR ESCROW_ID - the recall link of the receipt
# RECEIVER got for ADDR whose token hashes to the message's recall_hash,
# waiting up to 30 s; fails if none
recall_link() {
	_h=$(psql_sg -c "SELECT recall_hash FROM escrow_messages WHERE id = '$3'")
	[ -n "$_h" ] || { echo "no recall_hash for $3" >&2; return 1; }
	python3 - "$T/$1.mail" "$2" "$_h" "$PURL" <<'EOF_PY'
import email, email.policy, glob, hashlib, os, re, sys, time
d, addr, want, purl = sys.argv[1:5]
pat = re.compile(re.escape(purl) + r"/recall\?t=([A-Za-z0-9_-]{43})")
for _ in range(300):
    for env in sorted(glob.glob(os.path.join(d, "*.env"))):
        if ("RCPT TO:<%s>" % addr).lower() not in open(env).read().lower():
            continue
        m = email.message_from_binary_file(open(env[:-4] + ".eml", "rb"), policy=email.policy.default)
        body = m.get_body(("plain",))
        if body is None:
            continue
        for t in pat.findall(body.get_content()):
            if hashlib.sha256(t.encode()).hexdigest() == want:
                print(purl + "/recall?t=" + t)
                sys.exit(0)
    time.sleep(0.1)
sys.exit("no receipt with the recall link for %s" % addr)
EOF_PY
}
# notif FILE ADDR - check a notification; prints "enroll URL" or "m URL"
notif() {
	python3 - "$1" "$2" "$PURL" <<'EOF_PY'
import email, email.policy, re, sys
f, addr, purl = sys.argv[1:4]
m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
types = [p.get_content_type() for p in m.walk()]
assert "multipart/alternative" in types, types
text = m.get_body(("plain",)).get_content()
html = m.get_body(("html",)).get_content()
pat = re.escape(purl) + r"/(?:enroll\?t=|m/)[A-Za-z0-9_-]+"
links = set(re.findall(pat, text))
assert len(links) == 1, ("links in the text part", links, text)
link = links.pop()
assert link in html.replace("&amp;", "&"), ("the HTML part lacks the link", link)
assert addr in str(m["To"]), m["To"]
assert "secure-mail@mx.test" in str(m["From"]), m["From"]
assert str(m["Auto-Submitted"]).strip() == "auto-generated", m["Auto-Submitted"]
assert m["Message-ID"] and m["Date"], "Message-ID and Date"
print(("enroll " if "/enroll?t=" in link else "m ") + link)
EOF_PY
}

# --- 1. escrow: the [secure] messages
# a1 alone first: alice's first notification is a1's (deliveries run in
# parallel, so two messages' notifications could come in either order)
qa1=$(send $SAM $ALICE "$T/a1.eml")
A1=$(escrowed "$qa1" $ALICE)
[ -n "$(mail_to rcpt $ALICE 1)" ] || fail "no notification reached $ALICE's server"
qa2=$(send $SAM $ALICE "$T/a2.eml")
qb1=$(send $NED $BOB "$T/b1.eml")
qc1=$(send $SAM $CAROL "$T/c1.eml")
qd1=$(send $SAM $DAVE "$T/d1.eml")
A2=$(escrowed "$qa2" $ALICE)
B1=$(escrowed "$qb1" $BOB)
escrowed "$qc1" $CAROL >/dev/null
escrowed "$qd1" $DAVE >/dev/null
ok "[secure] to a domain with STARTTLS: escrowed ($A1 $A2 $B1)"
assert_eq "$(psql_sg -c "SELECT outcome || ' ' || method FROM delivery_attempts WHERE message_id = '$qa1' ORDER BY id DESC LIMIT 1")" \
    "escrowed escrow" "the attempt: outcome escrowed, method escrow"
assert_eq "$(psql_sg -c "SELECT length(data) FROM messages WHERE id = '$qa1'")" 0 \
    "the queue's plaintext copy of an escrowed message is wiped"

f=$(mail_to rcpt $ALICE 1)
[ -n "$f" ] || fail "no notification reached $ALICE's server"
n=$(notif "$f" $ALICE) || fail "notification for $ALICE: $(cat "$f")"
assert_eq "${n%% *}" enroll "first notification: an enrollment link"
LINK_A1=${n#* }
ok "notification: multipart/alternative, From escrow_from, Auto-Submitted, one link ($LINK_A1)"
assert_contains "$(cat "${f%.eml}.env")" "tls=1" "the notification went over TLS"
f2=$(mail_to rcpt $ALICE 2)
[ -n "$f2" ] || fail "no second notification for $ALICE"
notif "$f2" $ALICE >/dev/null || fail "second notification for $ALICE"
f=$(mail_to rcpt $BOB 1)
n=$(notif "$f" $BOB) || fail "notification for $BOB"
LINK_B1=${n#* }
f=$(mail_to rcpt $CAROL 1)
n=$(notif "$f" $CAROL) || fail "notification for $CAROL"
LINK_C1=${n#* }
f=$(mail_to rcpt $DAVE 1)
n=$(notif "$f" $DAVE) || fail "notification for $DAVE"
LINK_D1=${n#* }
sleep 1
grep -rl -F "$MARK" "$T/rcpt.mail" >/dev/null 2>&1 &&
    fail "escrowed content reached the recipients' server: $(grep -rl -F "$MARK" "$T/rcpt.mail")"
assert_eq "$(ls "$T/rcpt.mail"/*.eml | wc -l | tr -d ' ')" 5 \
    "the recipients' server got the 5 notifications and nothing else"

[ "$PORTAL_UP" = 1 ] || fail "no portal: the web checks cannot run"

# --- curl helpers
cat >"$T/h.py" <<'EOF_PY'
# h.py MODE ARG FILE - read a portal page: "field NAME" (value of the
# first input NAME), "text ID" (text of the element), "attr ID:ATTR"
# (attribute, "<none>" if absent), "hrefs CLASS" (hrefs of a.CLASS)
import html.parser, sys
mode, arg, path = sys.argv[1:4]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields, self.texts, self.attrs, self.hrefs, self.stack = {}, {}, {}, [], []
    def handle_starttag(self, tag, a):
        a = dict(a)
        if tag == "input" and a.get("name") and a["name"] not in self.fields:
            self.fields[a["name"]] = a.get("value") or ""
        if a.get("id"):
            self.attrs.setdefault(a["id"], a)
            self.texts.setdefault(a["id"], "")
        if tag == "a" and arg in (a.get("class") or "").split():
            self.hrefs.append(a.get("href") or "")
        if tag not in VOID:
            self.stack.append((tag, a.get("id")))
    def handle_startendtag(self, tag, a):
        self.handle_starttag(tag, a)
        if tag not in VOID:
            self.stack.pop()
    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
    def handle_data(self, d):
        for _, i in self.stack:
            if i:
                self.texts[i] += d
p = P()
p.feed(open(path, encoding="utf-8", errors="replace").read())
if mode == "field":
    print(p.fields.get(arg, ""))
elif mode == "text":
    print(" ".join(p.texts.get(arg, "").split()))
elif mode == "attr":
    i, at = arg.split(":")
    v = p.attrs.get(i, {}).get(at, "<none>")
    print("" if v is None else v)	# a bare attribute is an empty one
elif mode == "hrefs":
    print("\n".join(p.hrefs))
EOF_PY
hp() {	# MODE ARG [FILE] - h.py on the last response (default)
	python3 "$T/h.py" "$1" "$2" "${3:-$T/r.b}"
}
# req JAR PATH [curl options] - a request to the portal with cookie jar
# $T/JAR.jar; headers in $T/r.h, body in $T/r.b, its time in $T/r.t;
# prints the status
req() {
	_rj=$T/$1.jar
	_rp=$2
	shift 2
	[ -f "$_rj" ] || : >"$_rj"
	_rs=$(curl -sS --cacert "$C/ca.pem" --max-time 30 -b "$_rj" -c "$_rj" \
	    -D "$T/r.h" -o "$T/r.b" -w '%{http_code} %{time_total}' "$@" "$PURL$_rp" \
	    2>"$T/r.err") || true
	echo "${_rs#* }" >"$T/r.t"	# seconds
	echo "${_rs%% *}" | grep . || echo 000
}
hdr() {	# NAME - the (last) value of header NAME in the last response
	tr -d '\r' <"$T/r.h" | sed -n "s/^$1: *//Ip" | tail -1
}
cookie() {	# JAR NAME - the cookie's value in the jar
	awk -v n="$2" '$6 == n {v = $7} END {print v}' "$T/$1.jar"
}
setcookie() {	# NAME - the Set-Cookie line for NAME in the last response
	tr -d '\r' <"$T/r.h" | grep -i "^set-cookie: *$1=" | tail -1
}
loc() {	# the Location of the last response, as a local path
	hdr Location | sed "s|^$PURL||"
}
# sec_headers WHAT - the headers every portal page carries
sec_headers() {
	_sh_bad=""
	_sh_csp=$(hdr Content-Security-Policy)
	for _d in "default-src 'none'" "style-src 'self'" "form-action 'self'" \
	    "frame-ancestors 'none'" "base-uri 'none'"; do
		case "$_sh_csp" in *"$_d"*) ;; *) _sh_bad="$_sh_bad [CSP lacks $_d]" ;; esac
	done
	case "$_sh_csp" in *unsafe-*) _sh_bad="$_sh_bad [CSP allows unsafe-*]" ;; esac
	case "$(hdr Strict-Transport-Security)" in *max-age=31536000*) ;; *) _sh_bad="$_sh_bad [HSTS]" ;; esac
	[ "$(hdr X-Frame-Options | tr a-z A-Z)" = DENY ] || _sh_bad="$_sh_bad [X-Frame-Options: $(hdr X-Frame-Options)]"
	[ "$(hdr Referrer-Policy)" = no-referrer ] || _sh_bad="$_sh_bad [Referrer-Policy: $(hdr Referrer-Policy)]"
	[ "$(hdr X-Content-Type-Options)" = nosniff ] || _sh_bad="$_sh_bad [X-Content-Type-Options]"
	case "$(hdr Cache-Control)" in *no-store*) ;; *) _sh_bad="$_sh_bad [Cache-Control: $(hdr Cache-Control)]" ;; esac
	if [ -n "$_sh_bad" ]; then
		fail_later "$1: security headers:$_sh_bad (CSP: $_sh_csp)"
	else
		ok "$1: CSP, HSTS, X-Frame-Options DENY, no-referrer, nosniff, no-store"
	fi
}
login() {	# JAR EMAIL PASSWORD [curl options] - GET and POST /login
	_lj=$1
	_le=$2
	_lp=$3
	shift 3
	req "$_lj" /login "$@" >/dev/null
	_lc=$(hp field csrf)
	req "$_lj" /login "$@" --data-urlencode "email=$_le" \
	    --data-urlencode "password=$_lp" --data-urlencode "csrf=$_lc"
}
enroll() {	# JAR LINK PASSWORD [PASSWORD2] - GET the link, POST /enroll
	_ej=$1
	[ "$(req "$_ej" "${2#"$PURL"}")" = 200 ] || { echo "GET-$(cat "$T/r.b" | head -c 200)"; return; }
	_ec=$(hp field csrf)
	_et=$(hp field t)
	req "$_ej" /enroll --data-urlencode "t=$_et" --data-urlencode "csrf=$_ec" \
	    --data-urlencode "password=$3" --data-urlencode "password2=${4:-$3}"
}

# --- 2. curl: pages before login
s=$(req anon /login)
assert_eq "$s" 200 "GET /login"
sec_headers "GET /login"
assert_eq "$(hdr Content-Type | tr -d ' ' | tr A-Z a-z)" "text/html;charset=utf-8" "pages are text/html; charset=utf-8"
for id in login-form email password login-submit; do
	[ "$(hp attr "$id:id")" = "$id" ] || fail "/login lacks #$id"
done
ok "/login has #login-form, #email, #password, #login-submit"
sc=$(setcookie sg_pre)
assert_contains "$sc" "HttpOnly" "sg_pre is HttpOnly"
assert_contains "$sc" "Secure" "sg_pre is Secure"
s=$(req anon /)
case "$s" in 30[1237]) ;; *) fail "GET / without a session: $s" ;; esac
assert_eq "$(loc)" /login "GET / without a session goes to /login"
s=$(req anon /inbox)
case "$s:$(loc)" in 30[1237]:/login*) ok "GET /inbox without a session: to /login" ;;
*) fail "GET /inbox without a session: $s $(loc)" ;; esac
s=$(req anon "/m/$B1")
case "$s:$(loc)" in 30[1237]:/login*) ok "GET /m/ID without a session: to /login" ;;
*) fail "GET /m/ID without a session: $s $(loc)" ;; esac
s=$(req anon /static/portal.css)
assert_eq "$s" 200 "GET /static/portal.css"
assert_contains "$(hdr Content-Type)" "text/css" "the stylesheet is text/css"
assert_not_contains "$(hdr Cache-Control)" "no-store" "the stylesheet is cacheable"

# CSRF: missing or wrong token is 403
req anon /login >/dev/null
s=$(req anon /login --data-urlencode "email=$BOB" --data-urlencode "password=x")
assert_eq "$s" 403 "POST /login without csrf: 403"
s=$(req anon /login --data-urlencode "email=$BOB" --data-urlencode "password=x" --data-urlencode "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
assert_eq "$s" 403 "POST /login with a wrong csrf: 403"
s=$(req fresh /login --data-urlencode "email=$BOB" --data-urlencode "password=x" --data-urlencode "csrf=$(req anon /login >/dev/null; hp field csrf)")
assert_eq "$s" 403 "POST /login with another pre-session's csrf: 403"

# enrollment
s=$(req anon "/enroll?t=bogusbogusbogusbogusbogusbogusbogusbogus12")
assert_eq "$s" 400 "a bogus enrollment token: 400"
[ -n "$(hp text error)" ] || fail "the 400 page has no #error"
sec_headers "GET /enroll (400)"
s=$(req bob "${LINK_B1#"$PURL"}")
assert_eq "$s" 200 "bob's enrollment link: 200"
for id in enroll-form password password2 enroll-submit; do
	[ "$(hp attr "$id:id")" = "$id" ] || fail "/enroll lacks #$id"
done
ok "/enroll has #enroll-form, #password, #password2, #enroll-submit"
sec_headers "GET /enroll"
c=$(hp field csrf)
t=$(hp field t)
s=$(req bob /enroll --data-urlencode "t=$t" --data-urlencode "password=$PW_BOB" --data-urlencode "password2=$PW_BOB")
assert_eq "$s" 403 "POST /enroll without csrf: 403"
s=$(enroll bob "$LINK_B1" short)
[ "$s" != 303 ] || fail "a 5-character password was accepted"
ok "a password under 10 characters is refused ($s)"
s=$(enroll bob "$LINK_B1" "$PW_BOB" "$PW_BOB-other")
[ "$s" != 303 ] || fail "two different passwords were accepted"
ok "two different passwords are refused ($s)"
assert_eq "$(psql_sg -c "SELECT password_hash IS NULL FROM escrow_users WHERE address = '$BOB'")" t \
    "refused attempts set no password"
s=$(enroll bob "$LINK_B1" "$PW_BOB")
assert_eq "$s" 303 "POST /enroll: 303"
assert_eq "$(loc)" "/m/$B1" "enrollment goes to the message the link was for"
sc=$(setcookie sg_session)
for a in HttpOnly Secure SameSite=Strict Path=/; do
	case "$sc" in *"$a"*) ;; *) fail "sg_session lacks $a: $sc" ;; esac
done
ok "sg_session: HttpOnly; Secure; SameSite=Strict; Path=/"
SB1=$(cookie bob sg_session)
[ ${#SB1} -ge 43 ] || fail "the session token is short: ${#SB1} characters"
assert_eq "$(psql_sg -c "SELECT count(*) FROM escrow_sessions WHERE hash = '$SB1'")" 0 \
    "the session token itself is not stored"
assert_contains "$(psql_sg -c "SELECT password_hash FROM escrow_users WHERE address = '$BOB'")" \
    "scrypt" "the password is stored as an scrypt hash"
s=$(req anon "${LINK_B1#"$PURL"}")
assert_eq "$s" 400 "a used enrollment token: 400"

# bob reads his message
s=$(req bob "/m/$B1")
assert_eq "$s" 200 "GET /m/ID"
sec_headers "GET /m/ID"
assert_contains "$(hp text msg-text)" "text-$MARK" "the text body is in #msg-text"
assert_contains "$(hp text msg-text)" "<b>not bold</b>" "markup in the text body is shown"
grep -q '<b>not bold</b>' "$T/r.b" && fail "markup in the text body went out as markup"
ok "the text body is escaped"
assert_eq "$(hp attr msg-html:sandbox)" "" "iframe#msg-html: sandbox with no allow-* tokens"
assert_eq "$(hp attr msg-html:src | sed "s|^$PURL||")" "/m/$B1/html" "the frame's src is /m/ID/html"
for id in msg-from msg-subject msg-date msg-expires reply-form reply-body reply-file reply-submit; do
	[ "$(hp attr "$id:id")" = "$id" ] || fail "/m/ID lacks #$id"
done
ok "/m/ID has #msg-from, #msg-subject, #msg-date, #msg-expires and the reply form"
assert_contains "$(hp text msg-subject)" "quarterly Ü report" "the subject, decoded"
assert_not_contains "$(hp text msg-subject | tr A-Z a-z)" "[secure]" "the tag is not in the subject"
assert_contains "$(hp text msg-from)" "$NED" "#msg-from"
grep -q 'id="show-images"' "$T/r.b" && fail "#show-images for an HTML part without remote images"
CSRF_B=$(hp field csrf)
[ -n "$CSRF_B" ] || fail "no csrf field on /m/ID"
hp hrefs att | sed "s|^$PURL||" >"$T/atts"
assert_eq "$(wc -l <"$T/atts" | tr -d ' ')" 2 "two attachments listed (a.att)"

s=$(req bob "/m/$B1/html")
assert_eq "$s" 200 "GET /m/ID/html"
csp=$(hdr Content-Security-Policy)
for d in "default-src 'none'" "style-src 'unsafe-inline'" "img-src data: cid:" "sandbox" \
    "form-action 'none'" "frame-ancestors 'self'"; do
	case "$csp" in *"$d"*) ;; *) fail "/m/ID/html CSP lacks $d: $csp" ;; esac
done
case "$csp" in *https:*|*script-src*|*unsafe-eval*) fail "/m/ID/html CSP too open: $csp" ;; esac
ok "/m/ID/html: its own CSP (default-src 'none', sandbox, no remote images, form-action 'none')"
assert_eq "$(hdr X-Frame-Options | tr a-z A-Z)" SAMEORIGIN "/m/ID/html: X-Frame-Options SAMEORIGIN"
assert_eq "$(hdr X-Content-Type-Options)" nosniff "/m/ID/html: nosniff"
assert_contains "$(cat "$T/r.b")" "html-$MARK" "/m/ID/html serves the HTML part"
s=$(req bob "/m/$B1/html?images=1")
assert_contains "$(hdr Content-Security-Policy)" "img-src data: https:" "with ?images=1: img-src data: https:"

# attachments
check_att() {	# PATH NAME FILE WHAT
	s=$(req bob "$1")
	assert_eq "$s" 200 "$4: 200"
	assert_eq "$(hdr X-Content-Type-Options)" nosniff "$4: nosniff"
	assert_eq "$(cmp -s "$T/r.b" "$3" && echo same)" same "$4: the bytes are the attachment's"
	python3 - "$(hdr Content-Disposition)" "$2" <<'EOF_PY' || fail "$4: Content-Disposition: $(hdr Content-Disposition)"
import re, sys, urllib.parse
cd, want = sys.argv[1], sys.argv[2]
parts = [p.strip() for p in cd.split(";")]
assert parts[0].lower() == "attachment", parts
params = {}
for p in parts[1:]:
    k, _, v = p.partition("=")
    params[k.strip().lower()] = v.strip()
star = params.get("filename*", "")
assert star.lower().startswith("utf-8''"), ("filename*", star)
assert urllib.parse.unquote(star[7:], errors="strict") == want, (star, want)
plain = params.get("filename", "")
assert plain.startswith('"') and plain.endswith('"'), ("filename", plain)
assert all(32 <= ord(c) < 127 for c in plain), ("filename not ASCII", plain)
EOF_PY
	ok "$4: attachment; filename=\"ascii\"; filename*=UTF-8''$2"
}
check_att "$(sed -n 1p "$T/atts")" "$ATT1_NAME" "$T/att1.bin" "attachment 1 (RFC 2231 name)"
ct=$(hdr Content-Type)
case "$ct" in application/pdf*|application/octet-stream*) ok "attachment 1: Content-Type $ct" ;;
*) fail "attachment 1: Content-Type $ct" ;; esac
check_att "$(sed -n 2p "$T/atts")" "$ATT2_NAME" "$T/att2.bin" "attachment 2 (RFC 2047 name)"
assert_not_contains "$(hdr Content-Type | tr A-Z a-z)" "html" "an HTML attachment is not served as text/html"

# another user's message: the same 404 as one that does not exist
s=$(req bob "/m/$A1")
assert_eq "$s" 404 "/m/ID of another user: 404"
norm "$T/r.b" "$T/404.other" "$CSRF_B"
s=$(req bob "/m/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
assert_eq "$s" 404 "/m/ID that does not exist: 404"
norm "$T/r.b" "$T/404.none" "$CSRF_B"
cmp -s "$T/404.other" "$T/404.none" || fail_later "another user's message and none give different pages: $(diff "$T/404.other" "$T/404.none" | head -5)"
ok "another user's message: the same page as none"
assert_eq "$(req bob "/m/$A1/html")" 404 "/m/ID/html of another user: 404"
assert_eq "$(req bob "/m/$A1/att/0")$(req bob "/m/$A1/att/1")" 404404 "/m/ID/att/N of another user: 404"

# a reply without csrf changes nothing; one to a sender whose server has
# no STARTTLS is queued TLS-only and never sent in plaintext
s=$(req bob "/m/$B1/reply" -F "body=no csrf reply")
assert_eq "$s" 403 "POST /m/ID/reply without csrf: 403"
assert_eq "$(queued_to $NED)" "" "no reply queued without csrf"
s=$(req bob "/m/$B1/reply" -F "body=reply-to-ned $RMARK" -F "file=@$REPLY_FILE" -F "csrf=$CSRF_B")
assert_eq "$s" 303 "POST /m/ID/reply: 303"
assert_eq "$(loc)" "/m/$B1?sent=1" "the reply goes back to /m/ID?sent=1"
req bob "/m/$B1?sent=1" >/dev/null
assert_eq "$(hp text notice)" "Reply sent." "#notice: Reply sent."
qr=$(queued_to $NED)
assert_eq "$(echo "$qr" | grep -c .)" 1 "one reply queued"
assert_eq "$(psql_sg -c "SELECT tls_required FROM messages WHERE id = '$qr'")" t \
    "the reply is queued with tls_required"
i=0
until [ -n "$(psql_sg -c "SELECT 1 FROM delivery_attempts WHERE message_id = '$qr' LIMIT 1")" ]; do
	i=$((i + 1)); [ $i -lt 300 ] || fail "no delivery attempt for the reply to $NED"
	sleep 0.1
done
assert_eq "$(psql_sg -c "SELECT state FROM recipients WHERE message_id = '$qr'")" deferred \
    "the reply to a server without STARTTLS is deferred"
sleep 0.5
# the server gets ned's receipts (ordinary mail, by design), never the reply
if grep -q "reply-to-ned" "$T/notls.log" 2>/dev/null ||
    grep -rlq -e "reply-to-ned" -e "$RMARK" "$T/notls.mail" 2>/dev/null; then
	fail "the reply went to the STARTTLS-less server in plaintext: $(cat "$T/notls.log")"
fi
for _f in "$T/notls.mail"/*.eml; do
	[ -f "$_f" ] || continue
	grep -q "^X-Sealgate-Escrow: notification" "$_f" ||
	    fail "the STARTTLS-less server got something other than a receipt: $_f"
done
ok "nothing of the reply in plaintext"

# sessions: logout (csrf), a new token at every login, no open redirect
s=$(req bob /logout -X POST)
assert_eq "$s" 403 "POST /logout without csrf: 403"
assert_eq "$(req bob /inbox)" 200 "the session survives a logout without csrf"
sec_headers "GET /inbox"
s=$(req bob /logout --data-urlencode "csrf=$CSRF_B")
assert_eq "$s:$(loc)" "303:/login" "POST /logout: 303 to /login"
s=$(curl -sS --cacert "$C/ca.pem" -o /dev/null -w '%{http_code}' -H "Cookie: sg_session=$SB1" "$PURL/inbox")
case "$s" in 30[1237]) ok "after logout the old session cookie is dead" ;;
*) fail "after logout the old session still works: $s" ;; esac
s=$(login bob $BOB "$PW_BOB")
assert_eq "$s:$(loc)" "303:/inbox" "login: 303 to /inbox"
SB2=$(cookie bob sg_session)
[ -n "$SB2" ] && [ "$SB2" != "$SB1" ] || fail "no new session token at login"
ok "login sets a new session token"
# a login form posted while the browser still has a session (GET /login
# then redirects, so the form comes from a pre-session of its own)
req pre2 /login >/dev/null
c=$(hp field csrf)
s=$(curl -sS --cacert "$C/ca.pem" -D "$T/r.h" -o "$T/r.b" -w '%{http_code}' \
    -H "Cookie: sg_pre=$(cookie pre2 sg_pre); sg_session=$SB2" --data-urlencode "email=$BOB" \
    --data-urlencode "password=$PW_BOB" --data-urlencode "csrf=$c" "$PURL/login")
SB3=$(setcookie sg_session | sed 's/^[^=]*=\([^;]*\).*/\1/')
[ "$s" = 303 ] && [ -n "$SB3" ] && [ "$SB3" != "$SB2" ] || fail "a login while logged in: $s, token '$SB3'"
s=$(curl -sS --cacert "$C/ca.pem" -o /dev/null -w '%{http_code}' -H "Cookie: sg_session=$SB2" "$PURL/inbox")
case "$s" in 30[1237]) ok "a login while logged in: a new token, the old one is deleted" ;;
*) fail "the session before the last login still works: $s" ;; esac
s=$(login bob $BOB "$PW_BOB")
assert_eq "$s" 303 "bob logs in again"
for nx in "https://127.0.0.1:$TP/evil" "//127.0.0.1:$TP/evil" "/\\127.0.0.1:$TP/evil" "/inbox/../m/x"; do
	req nx /login >/dev/null
	c=$(hp field csrf)
	s=$(req nx "/login?next=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$nx")" \
	    --data-urlencode "email=$BOB" --data-urlencode "password=$PW_BOB" \
	    --data-urlencode "csrf=$c" --data-urlencode "next=$nx")
	case "$s:$(hdr Location)" in
	"303:/inbox" | "303:$PURL/inbox") ;;
	*) fail "login with next=$nx: $s $(hdr Location)" ;;
	esac
done
ok "no open redirect: a next that is not a local /m/ path goes to /inbox"
req nx /login >/dev/null
c=$(hp field csrf)
s=$(req nx "/login?next=/m/$B1" --data-urlencode "email=$BOB" --data-urlencode "password=$PW_BOB" \
    --data-urlencode "csrf=$c" --data-urlencode "next=/m/$B1")
assert_eq "$s:$(loc)" "303:/m/$B1" "login with next=/m/ID goes there"

# password reset: the same answer for every address
for who in "$BOB" "$NOBODY"; do
	req anon /reset >/dev/null
	c=$(hp field csrf)
	s=$(req anon /reset --data-urlencode "email=$who" --data-urlencode "csrf=$c")
	echo "$s $(hp text notice)" >"$T/reset.$who"
done
assert_eq "$(cat "$T/reset.$NOBODY")" "$(cat "$T/reset.$BOB")" "POST /reset: the same answer for an unknown address"
assert_contains "$(cat "$T/reset.$BOB")" "If the address has messages here, a link is on its way." "POST /reset: #notice"
f=$(mail_to rcpt $BOB 2)
[ -n "$f" ] && grep -q "/reset/confirm?t=" "$f" || fail "no reset link mailed to $BOB"
TOKEN_RESET=$(python3 -c "
import email, email.policy, re, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print(re.search(r'/reset/confirm\?t=([A-Za-z0-9_-]+)', m.get_body(('plain',)).get_content()).group(1))" "$f") ||
    fail "no reset token in the text part of the reset mail"
ok "the reset link is mailed to an account's address"
[ -z "$(grep -l -i -F "RCPT TO:<$NOBODY>" "$T/rcpt.mail"/*.env 2>/dev/null)" ] ||
    fail "a reset mail went to an address without an account"
ok "nothing is mailed for an unknown address"

# recall: an unread message can be recalled, a read one cannot
qb2=$(send $NED $BOB "$T/b2.eml")
B2=$(escrowed "$qb2" $BOB)
f=$(mail_to rcpt $BOB 3)
n=$(notif "$f" $BOB) || fail "the notification after enrollment"
assert_eq "$n" "m $PURL/m/$B2" "after enrollment the notification links to /m/ID"
out=$(sg gw escrow recall "$B2" 2>&1) || fail "escrow recall of an unread message: $out"
ok "escrow recall of an unread message"
assert_eq "$(psql_sg -c "SELECT recalled_at IS NOT NULL, length(sealed) FROM escrow_messages WHERE id = '$B2'")" "t|0" \
    "recalled: recalled_at set, sealed wiped"
assert_eq "$(req bob "/m/$B2")" 404 "a recalled message: 404"
out=$(sg gw escrow recall "$B1" 2>&1) && fail "escrow recall of a read message succeeded: $out"
[ -n "$out" ] || fail "escrow recall of a read message: no explanation"
ok "escrow recall of a read message refuses: $out"
assert_eq "$(req bob "/m/$B1")" 200 "the read message is still there"

# the sender's recall link (the receipt of each deposit)
for n in 1 2; do
	printf 'From: Sam Sender <%s>\r\nTo: <%s>\r\nSubject: [secure] recall me %s\r\nMessage-ID: <rc%s@sender.portal.test>\r\nDate: Mon, 02 Jun 2025 10:00:00 +0000\r\n\r\nrecall-body-%s %s\r\n' \
	    "$SAM" "$BOB" "$n" "$n" "$n" "$MARK" >"$T/rc$n.eml"
done
qb3=$(send $SAM $BOB "$T/rc1.eml")
qb4=$(send $SAM $BOB "$T/rc2.eml")
B3=$(escrowed "$qb3" $BOB)
B4=$(escrowed "$qb4" $BOB)
RL3=$(recall_link sender $SAM "$B3") || fail "no receipt with a recall link for $B3 reached $SAM"
RL4=$(recall_link sender $SAM "$B4") || fail "no receipt with a recall link for $B4 reached $SAM"
ok "the receipt with the recall link reached the sender"
s=$(req snd "${RL3#"$PURL"}")
assert_eq "$s" 200 "GET /recall?t=TOKEN: 200"
sec_headers "GET /recall"
assert_eq "$(hp text recall-state)" "Not read yet" "#recall-state: unread"
assert_eq "$(hp text recall-from)" "$SAM" "#recall-from: the sender"
assert_eq "$(hp text recall-to)" "$BOB" "#recall-to: the recipient"
assert_eq "$(hp text recall-subject)" "recall me 1" "#recall-subject (the tag removed)"
for id in recall-form recall-submit; do
	[ "$(hp attr "$id:id")" = "$id" ] || fail "/recall lacks #$id"
done
ok "/recall has #recall-form and #recall-submit"
assert_eq "$(hp field t)" "${RL3#*t=}" "the form carries the token"
grep -q -e "$MARK" -e "recall-body" "$T/r.b" && fail "the recall page shows the message body"
ok "the recall page does not show the message body"
C3=$(hp field csrf)
[ -n "$C3" ] || fail "/recall: no csrf in the form"
s=$(req snd /recall --data-urlencode "t=${RL3#*t=}")
assert_eq "$s" 403 "POST /recall without csrf: 403"
assert_eq "$(psql_sg -c "SELECT recalled_at IS NULL FROM escrow_messages WHERE id = '$B3'")" t \
    "POST /recall without csrf changes nothing"
# the sender opens the second link before the recipient reads it
s=$(req snd "${RL4#"$PURL"}")
assert_eq "$s" 200 "GET /recall for the second message"
C4=$(hp field csrf)
s=$(req snd /recall --data-urlencode "t=${RL3#*t=}" --data-urlencode "csrf=$C3")
assert_eq "$s" 200 "POST /recall of an unread message: 200"
sec_headers "POST /recall"
assert_eq "$(hp text notice)" "The message was withdrawn." "#notice: The message was withdrawn."
assert_eq "$(psql_sg -c "SELECT recalled_at IS NOT NULL, length(sealed) FROM escrow_messages WHERE id = '$B3'")" "t|0" \
    "recalled by the sender: recalled_at set, sealed wiped"
assert_eq "$(psql_sg -c "SELECT count(*) FROM escrow_audit WHERE escrow_id = '$B3' AND action = 'recall' AND detail = 'sender'")" 1 \
    "audit row recall, detail sender"
assert_eq "$(req bob "/m/$B3")" 404 "the recipient's /m/ID of a withdrawn message: 404"
s=$(req snd "${RL3#"$PURL"}")
assert_eq "$s:$(hp text recall-state)" "200:Already withdrawn" "the link still shows the state: withdrawn"
[ "$(hp attr recall-form:id)" = "<none>" ] || fail "a withdrawn message still offers the form"
assert_eq "$(req bob "/m/$B4")" 200 "bob reads the second message"
s=$(req snd /recall --data-urlencode "t=${RL4#*t=}" --data-urlencode "csrf=$C4")
assert_eq "$s" 409 "POST /recall after the recipient read it: 409"
assert_eq "$(hp text error)" "The message has already been read and can no longer be withdrawn." \
    "#error: already read"
assert_eq "$(psql_sg -c "SELECT recalled_at IS NULL AND length(sealed) > 0 FROM escrow_messages WHERE id = '$B4'")" t \
    "the read message is intact"
s=$(req snd "${RL4#"$PURL"}")
assert_eq "$s:$(hp text recall-state)" "200:Already read" "the link shows the state: read"
s=$(req snd "/recall?t=bogusbogusbogusbogusbogusbogusbogusbogus12")
assert_eq "$s" 400 "a bogus recall token: 400"
[ -n "$(hp text error)" ] || fail "the 400 page has no #error"
sec_headers "GET /recall (400)"
s=$(req snd "/recall?t=short")
assert_eq "$s" 400 "a malformed recall token: 400"
s=$(req snd /recall --data-urlencode "t=bogusbogusbogusbogusbogusbogusbogusbogus12" --data-urlencode "csrf=$C4")
assert_eq "$s" 400 "POST /recall with a bogus token: 400"

# --- 3. the browser
if [ ! -x "$CHROMIUM" ]; then
	fail_later "browser tests not run: no $CHROMIUM (scripts/install-deps.sh installs Debian's chromium)"
elif [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
	fail_later "browser tests not run: no $BROWSER_DIR/node_modules (npm ci --prefix tests/browser)"
else
	SHOTS=$T/screenshots
	brc=0
	PORTAL_URL=$PURL ENROLL_URL=$LINK_A1 RCPT=$ALICE PASSWORD=$PW_ALICE \
	SENDER=$SAM SUBJECT="quarterly Ü report" TEXT_MARKER="text-$MARK" \
	TEXT_LITERAL="<b>not bold</b>" HTML_MARKER="html-$MARK" \
	ATT_NAME=$ATT1_NAME ATT_FILE=$T/att1.bin REPLY_TEXT="reply-from-alice $RMARK" \
	REPLY_FILE=$REPLY_FILE HOSTILE_SUBJECT="hostile html" TRACK_LOG=$T/track.log \
	TRACK_ORIGIN=$TURL SHOTS=$SHOTS CHROMIUM=$CHROMIUM RESULT_FILE=$T/browser.json \
	    timeout 300 node "$BROWSER_DIR/portal.test.mjs" >"$T/browser.out" 2>&1 || brc=$?
	sed 's/^/  /' "$T/browser.out"
	[ "$brc" = 0 ] || fail_later "browser tests (exit $brc; $T/browser.out)"
	echo "screenshots: $SHOTS"
	if [ -d "$SHOTS" ]; then
		d=${SG_SCREENSHOTS:-/tmp/sealgate-screenshots/t_portal}
		mkdir -p "$d" && cp "$SHOTS"/*.png "$d"/ 2>/dev/null && echo "screenshots copied to $d"
	fi
fi

# --- 4. after the browser: the reply reached the sender over TLS
f=$(mail_with sender $SAM "In-Reply-To:")
if [ -z "$f" ]; then
	fail_later "alice's reply did not reach $SAM's server"
else
	assert_contains "$(cat "${f%.eml}.env")" "tls=1" "the reply arrived over TLS"
	assert_contains "$(cat "${f%.eml}.env")" "RCPT TO:<$SAM>" "the reply goes to the original sender"
	python3 - "$f" "$REPLY_FILE" "reply-from-alice $RMARK" <<'EOF_PY' || fail_later "the reply's content"
import email, email.policy, os, sys
f, att, text = sys.argv[1:4]
m = email.message_from_binary_file(open(f, "rb"), policy=email.policy.default)
assert "alice@rcpt.portal.test" in str(m["From"]), m["From"]
assert "sam@sender.portal.test" in str(m["To"]), m["To"]
assert str(m["Subject"]) == "Re: quarterly \u00dc report", m["Subject"]
assert str(m["In-Reply-To"]).strip() == "<a1@sender.portal.test>", m["In-Reply-To"]
assert "<a1@sender.portal.test>" in str(m["References"]), m["References"]
assert m.get_content_type() == "multipart/mixed", m.get_content_type()
assert text in m.get_body(("plain",)).get_content(), "reply text"
atts = list(m.iter_attachments())
assert len(atts) == 1, [a.get_filename() for a in atts]
assert atts[0].get_filename() == os.path.basename(att), atts[0].get_filename()
assert atts[0].get_content() == open(att, "rb").read() or atts[0].get_payload(decode=True) == open(att, "rb").read(), "attachment bytes"
EOF_PY
	ok "the reply: From alice, To sam, Re: subject, In-Reply-To/References, text and the file"
fi
case "$(cat "$T/track.log")" in
*"/script"* | *"/onerror"* | *"/jslink"* | *"/form"* | *"/toplink"* | *"/blanklink"* | *"/frame"* | *"/style.css"* | *"/refresh"* | *"/object"* | *"/video"*)
	fail_later "the hostile message reached the listener: $(cat "$T/track.log")" ;;
*) ok "the listener saw no script, handler, link, form, frame, stylesheet or refresh" ;;
esac
s=$(req anon "${LINK_A1#"$PURL"}")
assert_eq "$s" 400 "alice's used enrollment link: 400"
out=$(sg gw escrow recall "$A1" 2>&1) && fail_later "escrow recall of alice's read message succeeded: $out"
ok "escrow recall of a message read in the browser refuses"

# --- 5. login failures: no enumeration, lockout per account and per
# client address. Each from its own source address (127.0.88.x), so the
# per-address lock never touches another check's client.
s1=$(login w1 $BOB "wrong password 1" --interface 127.0.88.51)
e1=$(hp text error)
t1=$(cat "$T/r.t")
norm "$T/r.b" "$T/fail.wrong" "$(hp field csrf)" "$BOB"
s2=$(login w2 $NOBODY "wrong password 1" --interface 127.0.88.52)
e2=$(hp text error)
t2=$(cat "$T/r.t")
norm "$T/r.b" "$T/fail.unknown" "$(hp field csrf)" "$NOBODY"
assert_eq "$s1 $e1" "200 Wrong address or password." "a wrong password: 200, #error"
assert_eq "$s2 $e2" "$s1 $e1" "an unknown address: the same status and text"
# both run the password hash: an unknown address is not answered much
# faster (a generous bound: one sample each, on a busy machine)
python3 -c "import sys; w, u = map(float, sys.argv[1:]); sys.exit(w > 0.05 and u < w / 4)" "$t1" "$t2" ||
    fail_later "an unknown address is answered much faster: ${t2}s vs ${t1}s for a wrong password"
ok "login failure time: wrong password ${t1}s, unknown address ${t2}s"
cmp -s "$T/fail.wrong" "$T/fail.unknown" ||
    fail_later "a wrong password and an unknown address give different pages: $(diff "$T/fail.wrong" "$T/fail.unknown" | head -6)"
[ -z "$(setcookie sg_session)" ] || fail "a failed login set a session cookie"

s=$(enroll carol "$LINK_C1" "$PW_CAROL")
assert_eq "$s" 303 "carol enrolls"
for n in 1 2 3; do
	s=$(login "c$n" $CAROL "bad password $n" --interface "127.0.88.6$n")
	case "$s" in 200 | 429) ;; *) fail "carol's bad password $n: $s" ;; esac
done
s=$(login c4 $CAROL "$PW_CAROL" --interface 127.0.88.64)
assert_eq "$s" 429 "after portal_max_failures bad passwords (from 3 addresses) the account is locked, even with the right one"
assert_eq "$(hp text error)" "Too many attempts. Try again later." "locked: #error"
[ -z "$(setcookie sg_session)" ] || fail "a locked login set a session cookie"
assert_eq "$(psql_sg -c "SELECT locked_until > now() FROM escrow_users WHERE address = '$CAROL'")" t \
    "escrow_users.locked_until is set"

for n in 1 2 3; do
	s=$(login "x$n" "nobody$n@rcpt.portal.test" "bad password" --interface 127.0.88.71 \
	    -H "X-Forwarded-For: 203.0.113.$n")
	case "$s" in 200 | 429) ;; *) fail "bad login $n from 127.0.88.71: $s" ;; esac
done
s=$(login x4 $BOB "$PW_BOB" --interface 127.0.88.71 -H "X-Forwarded-For: 203.0.113.9")
assert_eq "$s" 429 "after portal_max_failures failures from one address (X-Forwarded-For ignored) it is locked"
s=$(login x5 $BOB "$PW_BOB" --interface 127.0.88.72)
assert_eq "$s" 303 "the same account from another address still logs in"

# --- 6. the audit trail
acts=$(psql_sg -c "SELECT DISTINCT action FROM escrow_audit ORDER BY 1" | tr '\n' ' ')
for a in deposit enroll login login_failed logout read download reply recall reset_request; do
	case " $acts" in *" $a "*) ;; *) fail_later "no audit row '$a' (have: $acts)" ;; esac
done
ok "audit rows: $acts"

# --- 7. what is stored and logged: no content, password or live token
pg_dump -h "$SG_VAR/pg/sock" -p "$SG_PG_PORT" -U sealgate "$SG_DB" >"$T/dump.sql" ||
    fail "pg_dump"
[ -s "$T/dump.sql" ] && grep -q "escrow_messages" "$T/dump.sql" || fail "pg_dump: no escrow tables"
case $LINK_D1 in *"/enroll?t="*) TOKEN_D1=${LINK_D1#*t=} ;; *) fail "dave's link: $LINK_D1" ;; esac
leaks=0
for where in "$T/dump.sql" "$SG_TMP/$SG_TEST.gw.log"; do
	python3 - "$where" "$MARK" "$PW_ALICE" "$PW_BOB" "$PW_CAROL" "$SB3" "$TOKEN_D1" "$TOKEN_RESET" "${LINK_A1#*t=}" "${LINK_B1#*t=}" "${RL3#*t=}" "${RL4#*t=}" <<'EOF_PY' ||
import base64, sys
data = open(sys.argv[1], "rb").read()
names = ["the message marker", "alice's password", "bob's password", "carol's password",
         "bob's session token", "dave's live enrollment token", "bob's live reset token",
         "alice's enrollment token", "bob's enrollment token",
         "sam's recall token (withdrawn)", "sam's live recall token"]
found = []
for name, s in zip(names, sys.argv[2:]):
    if not s:
        continue
    b = s.encode()
    forms = {"as is": b, "hex": b.hex().encode(), "base64": base64.b64encode(b)[:-4] or b}
    for how, needle in forms.items():
        if needle in data:
            found.append("%s (%s)" % (name, how))
            break
if found:
    sys.exit("found: " + ", ".join(found))
EOF_PY
	{ fail_later "$(basename "$where") holds what it must not (see above)"; leaks=1; }
done
[ "$leaks" = 1 ] ||
    ok "pg_dump and the log: no message content, password, session token or live link token"
