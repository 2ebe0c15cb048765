#!/bin/sh
# crypto.sh OUTDIR - PGP/MIME and S/MIME encryption, messages per second:
# sealgate's code in one process ($BUILD/tools/crypto_bench) against the
# gpg and openssl cms command lines run once per message. For bench.sh
# (BENCH_CASES crypto); runs alone too, needs no root:
#   BUILD=build scripts/bench/crypto.sh /tmp/cb
#
# In a temp dir: a recipient OpenPGP key (gpg --quick-gen-key, no
# passphrase; CRYPTO_BENCH_PGP_ALGO: future-default, ed25519 + cv25519,
# the default, or rsa2048/rsa3072/rsa4096: RSA + RSA subkey) whose public key is imported into a gateway-style home (public
# keys only), an RSA-2048 S/MIME recipient certificate (SAN email,
# keyUsage keyEncipherment, EKU emailProtection), and a 4 KiB and a
# 100 KiB message (CRLF). For each size, each case CRYPTO_BENCH_SECS
# (default 5) seconds:
#   pgp      pgp_encrypt_mime(), one pgp_ctx   | gpg --batch --trust-model
#            (GPGME runs gpg per operation)    | always --armor -r FPR
#                                              | --encrypt, per message
#   smime    smime_encrypt() AES-256-GCM, and  | openssl cms -encrypt
#            AES-256-CBC, certificate loaded   | -aes-256-gcm (-cbc)
#            once                              | -recip CERT, per message
# The first output of each in-process case is decrypted once (gpg with
# the recipient's secret key, openssl cms -decrypt) as a sanity check.
#
# OUTDIR/crypto.txt: one line per measurement in bench.sh's results
# format, CASE <tab> sealgate|cli <tab> LABEL <tab> msgs=.. secs=..
# rate=.. cpu_ms=.. (crypto_bench's line). Stdout: a title and a table
# in the layout of report.py's (case, sealgate, command line, ratio
# sealgate/CLI, target, verdict; no targets, every row "info"), which
# bench.sh prints after its own. Progress on stderr. Exit non-zero on
# any failure.
set -eu
OUT=${1:?usage: crypto.sh OUTDIR}
case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
cd "$(dirname "$0")/../.."
TOP=$(pwd -P)
BUILD=${BUILD:-build}
SECS=${CRYPTO_BENCH_SECS:-5}
ALGO=${CRYPTO_BENCH_PGP_ALGO:-future-default}
CB=$TOP/$BUILD/tools/crypto_bench

say() {
	printf 'bench crypto: %s\n' "$*" >&2
}

die() {
	printf 'bench crypto: FAILED: %s\n' "$*" >&2
	exit 1
}

for c in gpg gpgconf openssl make awk; do
	command -v "$c" >/dev/null 2>&1 || die "$c not found (make deps)"
done
# make bench builds only `all`: the tool is brought up to date here
make -s --no-print-directory BUILD="$BUILD" "$BUILD/tools/crypto_bench" >&2 ||
    die "cannot build $CB"
mkdir -p "$OUT"
RES=$OUT/crypto.txt
: >"$RES"

# short path: gpg-agent's socket lives in the home
T=$(mktemp -d /tmp/sgcb.XXXXXX)
RK=$T/rcpt	# the recipient's own home (secret key; decrypts the check)
GW=$T/gw	# gateway-style home: the recipient's public key only
cleanup() {
	rc=$?
	set +e
	for h in "$RK" "$GW"; do
		[ -d "$h" ] && gpgconf --homedir "$h" --kill gpg-agent >/dev/null 2>&1
	done
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -m 700 "$RK" "$GW"

# --- keys ---

PGP_ADDR=rcpt@pgp.bench.test
rkgpg() {
	gpg --homedir "$RK" --batch --quiet --pinentry-mode loopback \
	    --passphrase '' "$@" >>"$T/keygen.log" 2>&1 ||
	    { cat "$T/keygen.log" >&2; die "gpg $*"; }
}
case $ALGO in
rsa*)	# gpg 2.2 gives an RSA primary no encryption subkey by itself
	rkgpg --quick-gen-key "Bench recipient <$PGP_ADDR>" "$ALGO" cert,sign never
	rkgpg --quick-add-key "$(gpg --homedir "$RK" --batch --with-colons \
	    --list-keys "<$PGP_ADDR>" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')" \
	    "$ALGO" encr never ;;
*)	rkgpg --quick-gen-key "Bench recipient <$PGP_ADDR>" "$ALGO" default never ;;
esac
gpg --homedir "$RK" --batch --armor --export "<$PGP_ADDR>" >"$T/rcpt.asc" ||
    die "gpg --export"
gpg --homedir "$GW" --batch --quiet --import "$T/rcpt.asc" 2>"$T/import.log" ||
    { cat "$T/import.log" >&2; die "gpg --import into the gateway home"; }
FPR=$(gpg --homedir "$GW" --batch --with-colons --list-keys "<$PGP_ADDR>" |
    awk -F: '$1 == "fpr" { print $10; exit }')
[ -n "$FPR" ] || die "no fingerprint for $PGP_ADDR"
PGP_KEY=$(gpg --homedir "$GW" --batch --with-colons --list-keys "$FPR" |
    awk -F: 'function n(a, b) {
		if (a == 1) return "rsa" b
		if (a == 22 && b == 255) return "ed25519"
		if (a == 18 && b == 255) return "cv25519"
		return "algo" a "/" b
	}
	$1 == "pub" { p = n($4, $3) } $1 == "sub" { s = n($4, $3) }
	END { print p "/" s }')

SM_ADDR=rcpt@smime.bench.test
cat >"$T/ext.cnf" <<EOF
subjectAltName = email:$SM_ADDR
keyUsage = critical, keyEncipherment
extendedKeyUsage = emailProtection
EOF
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=Bench recipient" \
    -keyout "$T/smime.key" -out "$T/smime.csr" 2>"$T/req.log" ||
    { cat "$T/req.log" >&2; die "openssl req"; }
openssl x509 -req -in "$T/smime.csr" -signkey "$T/smime.key" -days 30 \
    -extfile "$T/ext.cnf" -out "$T/smime.pem" 2>"$T/x509.log" ||
    { cat "$T/x509.log" >&2; die "openssl x509"; }

# --- messages: header + text/plain body of 78-byte CRLF lines ---

mkmsg() {	# FILE SIZE
	awk -v size="$2" -v addr="$SM_ADDR" 'BEGIN {
		h = "From: Bench sender <bench@example.org>\r\n" \
		    "To: Bench recipient <" addr ">\r\n" \
		    "Subject: crypto bench " size " bytes\r\n" \
		    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" \
		    "Message-ID: <crypto." size "@bench.test>\r\n" \
		    "MIME-Version: 1.0\r\n" \
		    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
		printf "%s", h
		line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstu\r\n"
		n = length(h)
		while (n + length(line) <= size) { printf "%s", line; n += length(line) }
		while (n < size - 2) { printf "x"; n++ }
		printf "\r\n"
	}' >"$1"
	[ "$(wc -c <"$1")" -eq "$2" ] || die "message $1 is not $2 bytes"
}
mkmsg "$T/m4k.eml" 4096
mkmsg "$T/m100k.eml" 102400

# --- runs ---

# bench CASE WHO LABEL ARGS... - one crypto_bench run, its line to RES
bench() {
	_c=$1 _w=$2 _l=$3
	shift 3
	_line=$("$CB" --seconds "$SECS" "$@") || die "$_c $_w: crypto_bench failed"
	say "$_c $_w: $_line"
	printf '%s\t%s\t%s\t%s\n' "$_c" "$_w" "$_l" "$_line" >>"$RES"
}

check_pgp() {	# FILE - an in-process output decrypts to the original body
	gpg --homedir "$RK" --batch --quiet --decrypt "$1" >"$1.plain" 2>"$1.log" ||
	    { cat "$1.log" >&2; die "gpg cannot decrypt sealgate's output $1"; }
	grep -q 'The quick brown fox' "$1.plain" || die "$1: decrypted body is not the message"
}

check_smime() {	# FILE
	openssl cms -decrypt -in "$1" -inkey "$T/smime.key" -recip "$T/smime.pem" \
	    -out "$1.plain" 2>"$1.log" ||
	    { cat "$1.log" >&2; die "openssl cms cannot decrypt sealgate's output $1"; }
	grep -q 'The quick brown fox' "$1.plain" || die "$1: decrypted body is not the message"
}

say "$PGP_KEY ($FPR); S/MIME RSA-2048; $SECS s per measurement"
for sz in 4k 100k; do
	m=$T/m$sz.eml
	case $sz in 4k) lab="4 KiB" ;; *) lab="100 KiB" ;; esac

	bench "pgp$sz" sealgate "PGP/MIME encrypt $lab (msg/s)" \
	    --pgp "$GW" --fpr "$FPR" --msg "$m" --out "$T/pgp$sz.out"
	check_pgp "$T/pgp$sz.out"
	bench "pgp$sz" cli "PGP/MIME encrypt $lab (msg/s)" --msg "$m" \
	    --expect '-----BEGIN PGP MESSAGE-----' -- \
	    gpg --homedir "$GW" --batch --quiet --trust-model always --armor \
	    -r "$FPR" --encrypt

	for ci in gcm cbc; do
		bench "smime$ci$sz" sealgate "S/MIME AES-256-$(echo $ci | tr a-z A-Z) $lab (msg/s)" \
		    --smime "$T/smime.pem" --cipher "$ci" --msg "$m" \
		    --out "$T/smime$ci$sz.out"
		check_smime "$T/smime$ci$sz.out"
		bench "smime$ci$sz" cli "S/MIME AES-256-$(echo $ci | tr a-z A-Z) $lab (msg/s)" \
		    --msg "$m" --expect 'MIME-Version: 1.0' -- \
		    openssl cms -encrypt "-aes-256-$ci" -recip "$T/smime.pem"
	done
done

# --- the table: sealgate, the command line, ratio; CPU as info ---
echo
echo "PGP/MIME and S/MIME encryption: sealgate in one process vs the command" \
    "line once per message ($(gpg --version | head -1), $(openssl version | cut -d' ' -f1-2));" \
    "$SECS s each; PGP key $PGP_KEY, S/MIME RSA-2048"
awk -F '\t' '
function kv(s, k,   n, i, a, p) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) {
		p = index(a[i], "=")
		if (substr(a[i], 1, p - 1) == k)
			return substr(a[i], p + 1) + 0
	}
	return 0
}
function row(a, b, c, d, e, f,   i) {
	r++; t[r, 1] = a; t[r, 2] = b; t[r, 3] = c; t[r, 4] = d
	t[r, 5] = e; t[r, 6] = f
	for (i = 1; i <= 6; i++)
		if (length(t[r, i]) > w[i])
			w[i] = length(t[r, i])
}
{
	if (!($1 in label)) { order[++n] = $1; label[$1] = $3 }
	rate[$1, $2] = kv($4, "rate"); cpu[$1, $2] = kv($4, "cpu_ms")
}
END {
	row("case", "sealgate", "command line", "ratio", "target", "")
	for (i = 1; i <= n; i++) {
		c = order[i]; s = rate[c, "sealgate"]; p = rate[c, "cli"]
		row(label[c], sprintf("%.1f", s), sprintf("%.1f", p),
		    p > 0 ? sprintf("%.2fx", s / p) : "-", "-", "info")
		s = cpu[c, "sealgate"]; p = cpu[c, "cli"]
		row("  CPU per message, incl. child processes (ms)",
		    sprintf("%.2f", s), sprintf("%.2f", p),
		    p > 0 ? sprintf("%.2fx", s / p) : "-", "-", "info")
	}
	fmt = "%-" w[1] "s  %" w[2] "s  %" w[3] "s  %" w[4] "s  %-" w[5] "s  %s\n"
	for (j = 1; j <= r; j++) {
		printf fmt, t[j, 1], t[j, 2], t[j, 3], t[j, 4], t[j, 5], t[j, 6]
		if (j == 1) {
			l = w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + 10
			for (k = 0; k < l; k++)
				printf "-"
			printf "\n"
		}
	}
}' "$RES"
