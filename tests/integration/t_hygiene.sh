#!/bin/sh
# t_hygiene - the SMTP ingress against hostile and sloppy peers, one
# transcript (tests/integration/scripts/hyg_*.smtp) per point, each with
# its own assertion, and a count of what was queued (by a sender address
# only that transcript uses) wherever a message is refused:
#   - smuggling: "\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r", "\r.\r",
#     "\n.\r" then a second transaction: 550 5.6.11 and nothing queued
#     (reject); exactly one message holding the would-be commands as
#     text, bare LF/CR turned into CRLF (smtp_bare_lf = normalize);
#   - dot-unstuffing; pipelining across the end of data; command line
#     512 / 513 octets; bare LF / CR in a command; text line 1000 / 1001
#     octets; SIZE= and real size over message_size_limit (552 5.3.4);
#     recipient limit (452 4.5.3); recipients differing only in the case
#     of the local part are two (RFC 5321 2.4);
#   - commands out of order (503 5.5.1); malformed paths (501); NUL in a
#     command (500 5.5.2) and in DATA (554);
#   - 8-bit headers stored byte-exact, or 554 5.6.7 under
#     smtp_8bit_headers = reject;
#   - idle timeout: 421 4.4.2 after 2 s and close (plaintext and TLS),
#     close 2 s after a STARTTLS that no handshake follows;
#     STARTTLS command injection; too many errors 421 4.7.0;
#     VRFY / HELP / unknown verb / RSET / NOOP.
. "$(dirname "$0")/lib.sh"
P=$SG_PORT_BASE
PN=$((P + 1))
P8=$((P + 2))
S=$SG_TOP/tests/integration/scripts
gw_config gw $P <<EOF
smtp_idle_timeout = 2s
message_size_limit = 10k
smtp_recipient_limit = 3
EOF
gw_config norm $PN <<EOF
smtp_bare_lf = normalize
EOF
gw_config strict8 $P8 <<EOF
smtp_8bit_headers = reject
EOF
gw_start gw $P
gw_start norm $PN
gw_start strict8 $P8

# The idle timeouts take 2 s or more each: run them while the rest goes,
# with one more client keeping the gateway busy (NOOP every 0.1 s until
# they are done), as a real gateway always is: its wake-ups must not make
# an idle client's timeout fire early.
python3 - $P "$T/busy.stop" >"$T/busy.out" 2>&1 <<'EOF_PY' &
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if not l or l[3:4] != b"-":
            return l
reply()
s.sendall(b"EHLO busy.test\r\n"); reply()
end = time.time() + 15
while time.time() < end and not os.path.exists(sys.argv[2]):
    s.sendall(b"NOOP\r\n")
    if not reply().startswith(b"250"):
        sys.exit("busy client: NOOP refused")
    time.sleep(0.1)
s.sendall(b"QUIT\r\n"); reply()
EOF_PY
busy_pid=$!
bg_track $busy_pid
script $P "$S/hyg_idle.smtp" >"$T/idle.out" 2>&1 &
idle_pid=$!
bg_track $idle_pid
script $P "$S/hyg_idle_tls.smtp" >"$T/idle_tls.out" 2>&1 &
idle_tls_pid=$!
bg_track $idle_tls_pid
script $P "$S/hyg_idle_handshake.smtp" >"$T/idle_handshake.out" 2>&1 &
idle_handshake_pid=$!
bg_track $idle_handshake_pid

# --- smuggling: one case per fake end of data, the cases side by side
smuggle_case() {	# N END
	what="smuggling with '$2'"
	run_script $P "$S/hyg_smuggle.smtp" END="$2" WANT="550 5.6.11" \
	    FROM=hyg-smug$1@example.org SMUGGLED=hyg-smuggled$1@example.org \
	    >/dev/null
	ok "$what, reject mode: one reply, 550 5.6.11"
	assert_eq "$(count_from hyg-smug$1@example.org)/$(count_from hyg-smuggled$1@example.org)" \
	    0/0 "$what, reject mode: nothing queued (outer/smuggled)"

	out=$(run_script $PN "$S/hyg_smuggle.smtp" END="$2" \
	    WANT="250 2.0.0 Ok: queued as" FROM=hyg-norm$1@example.org \
	    SMUGGLED=hyg-nsmuggled$1@example.org)
	ok "$what, normalize mode: one reply, 250"
	assert_eq "$(count_from hyg-norm$1@example.org)/$(count_from hyg-nsmuggled$1@example.org)" \
	    1/0 "$what, normalize mode: exactly one message (outer/smuggled)"
	id=$(queued_id "$out")
	raw_split norm "$id"
	printf 'Subject: smuggling\r\nMessage-ID: <smuggle@client.test>\r\n\r\nouter body\r\n.\r\nMAIL FROM:<%s>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n' \
	    hyg-nsmuggled$1@example.org >"$T/want.smuggle$1"
	cmp "$T/want.smuggle$1" "$T/$id.rest" ||
	    fail "$what, normalize mode: stored message: want $(od -c "$T/want.smuggle$1" | head -5) got $(od -c "$T/$id.rest" | head -5)"
	ok "$what, normalize mode: the commands are text, bare LF/CR became CRLF"
}
n=0
pids=
for end in '\n.\n' '\r\n.\n' '\n.\r\n' '\r.\r\n' '\r\n.\r' '\r.\r' '\n.\r'; do
	n=$((n + 1))
	(smuggle_case $n "$end") >"$T/smuggle$n.out" 2>&1 &
	pids="$pids $!"
	bg_track $!
done
n=0
for pid in $pids; do
	n=$((n + 1))
	rc=0
	wait $pid || rc=$?
	cat "$T/smuggle$n.out"
	[ $rc = 0 ] || exit 1
done

# --- dot-unstuffing
out=$(run_script $P "$S/hyg_dotstuff.smtp")
id=$(queued_id "$out")
raw_split gw "$id"
printf 'Subject: dots\r\nMessage-ID: <dots@client.test>\r\n\r\n.\r\n.leading dot\r\n..\r\nsingle dot\r\nmid.dle\r\n' >"$T/want.dots"
cmp "$T/want.dots" "$T/$id.rest" ||
    fail "dot-unstuffing: got $(od -c "$T/$id.rest" | head -8)"
ok "dot-unstuffing: '..' stored as '.', '...' as '..', '.x' as 'x'"

# --- line limits
run_script $P "$S/hyg_cmdline.smtp" >/dev/null
ok "command line: 512 octets fine, 513 gets 500 5.5.2 once, session goes on"
run_script $P "$S/hyg_textline.smtp" >/dev/null
ok "text line: 1000 octets queued (stuffing dot not counted), 1001 gets 5xx after the final dot"
assert_eq "$(count_from hyg-line1000@example.org)/$(count_from hyg-line1001@example.org)" \
    1/0 "text line: 1000 queued, 1001 not (1000/1001)"

# --- size
run_script $P "$S/hyg_size_param.smtp" >/dev/null
ok "SIZE=10240 accepted, SIZE=10241 552 5.3.4 at MAIL"
run_script $P "$S/hyg_size_data.smtp" >/dev/null
ok "message of 10240 octets queued, 10241 and 40 kB get 552 5.3.4 after the dot"
assert_eq "$(count_from hyg-size-exact@example.org)/$(count_from hyg-size-over@example.org)" \
    1/0 "size: exactly the limit queued, over it nothing (exact/over)"

# --- pipelining
run_script $P "$S/hyg_pipelining.smtp" >/dev/null
ok "pipelining: commands in the write that ends DATA are answered in order"
assert_eq "$(count_from hyg-pipe1@example.org)/$(count_from hyg-pipe2@example.org)" \
    1/1 "pipelining: both messages queued once"

# --- recipients
out=$(run_script $P "$S/hyg_rcpt_limit.smtp")
id=$(queued_id "$out")
assert_eq "$(psql_sg -c "SELECT string_agg(rcpt, ',' ORDER BY rcpt) FROM recipients WHERE message_id = '$id'")" \
    "r1@example.com,r2@example.com,r3@example.com" "recipient limit 3: 4th 452 4.5.3, queued for the first three"

out=$(run_script $P "$S/hyg_rcpt_case.smtp")
rcptcase_id=$(queued_id "$out")	# its recipients are checked at the end

# --- sequence and syntax
run_script $P "$S/hyg_order.smtp" >/dev/null
ok "out of order: 503 5.5.1 (554 5.5.1 for DATA without recipients)"
run_script $P "$S/hyg_addr.smtp" >/dev/null
ok "malformed paths: 501 5.1.7 / 5.1.3 / 5.5.4"
assert_eq "$(count_from hyg-addr@example.org)" 0 "malformed paths: nothing queued"
run_script $P "$S/hyg_bare_lf_cmd.smtp" >/dev/null
ok "command ended by a bare LF: 500 5.5.2, not run; bare CR in a command: 500 5.5.2"
run_script $P "$S/hyg_nul_cmd.smtp" >/dev/null
ok "NUL in a command: 500 5.5.2, session goes on"
run_script $P "$S/hyg_nul_data.smtp" >/dev/null
ok "NUL in the message: 554 after the dot"
assert_eq "$(count_from hyg-nuldata@example.org)" 0 "NUL in the message: nothing queued"
run_script $P "$S/hyg_verbs.smtp" >/dev/null
ok "VRFY 252, HELP 214, unknown 500 5.5.2, RSET/NOOP 250 2.0.0, EXPN 502"

# --- 8-bit headers
out=$(run_script $P "$S/hyg_8bit.smtp" FROM=hyg-8bit@example.org \
    WANT="250 2.0.0 Ok: queued as")
id=$(printf '%s\n' "$out" | sed -n 's/^queued //p' | head -1)
raw_split gw "$id"
printf 'Subject: caf\303\251 \377\r\nMessage-ID: <8bit@client.test>\r\n\r\nbody caf\303\251\r\n' >"$T/want.8bit"
cmp "$T/want.8bit" "$T/$id.rest" ||
    fail "8-bit header: stored bytes differ: $(od -c "$T/$id.rest" | head -4)"
ok "8-bit header, default: accepted and stored byte-exact"
run_script $P8 "$S/hyg_8bit.smtp" FROM=hyg-8bit-strict@example.org \
    WANT="554 5.6.7" >/dev/null
ok "8-bit header under smtp_8bit_headers = reject: 554 5.6.7; 8-bit body still fine"
assert_eq "$(count_from hyg-8bit-strict@example.org)/$(count_from hyg-8bit-strict@example.org-body)" \
    0/1 "smtp_8bit_headers = reject: 8-bit header not queued, 8-bit body queued"

# --- STARTTLS injection, error limit
run_script $P "$S/hyg_starttls_inject.smtp" >/dev/null
ok "STARTTLS injection: only 220, nothing for the injected MAIL, inside TLS 503 5.5.1 until EHLO"
assert_eq "$(count_from hyg-inj@example.org)" 0 "STARTTLS injection: nothing queued"
run_script $P "$S/hyg_errors.smtp" >/dev/null
ok "10th error: 500 then 421 4.7.0 and close"

# --- the idle timeouts started at the top
for t in idle idle_tls idle_handshake; do
	eval "wait \$${t}_pid" || { cat "$T/$t.out"; fail "transcript hyg_$t.smtp"; }
	case $t in
	idle_handshake) ok "$t: silent after STARTTLS: closed" ;;
	*) ok "$t: 421 4.4.2 after silence (smtp_idle_timeout = 2s), then close" ;;
	esac
done
touch "$T/busy.stop"
wait $busy_pid || fail "busy client: $(cat "$T/busy.out")"

# --- last, checks that report and go on (known daemon bugs must not hide
# each other)
for t in idle idle_tls idle_handshake; do
	secs=$(sed -n 's/^elapsed idle //p' "$T/$t.out")
	if awk -v s="$secs" 'BEGIN { exit !(s >= 1.9 && s < 4) }'; then
		ok "$t: cut off after $secs s of silence"
	else
		fail_later "hyg_$t: cut off after ${secs:-?} s of silence, want 2 s (smtp_idle_timeout = 2s)"
	fi
done
got=$(psql_sg -c "SELECT string_agg(rcpt, ',' ORDER BY id) FROM recipients WHERE message_id = '$rcptcase_id'")
if [ "$got" = "Alice@example.com,alice@example.com" ]; then
	ok "recipients differing in local-part case are two, in domain case one"
else
	fail_later "RCPT <Alice@example.com>, <alice@example.com>, <alice@EXAMPLE.com>: recipients got '$got', want 'Alice@example.com,alice@example.com' (RFC 5321 2.4: local parts are case-sensitive)"
fi
