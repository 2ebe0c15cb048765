#!/bin/sh
# install-deps.sh - install every Debian package sealgate needs to build,
# run and test, and the npm packages of the browser tests. Idempotent:
# does nothing when all of them are present.
set -eu

PKGS="build-essential make pkg-config clang libclang-rt-14-dev llvm
libssl-dev openssl libpq-dev libcmocka-dev libunbound-dev unbound ldnsutils dnsutils
libcurl4-openssl-dev zlib1g-dev libgpgme-dev gnupg gpgsm libgmime-3.0-dev
libmicrohttpd-dev
postgresql postgresql-contrib postgresql-client
postfix swaks libnet-ssleay-perl libio-socket-ssl-perl
python3 procps iproute2 ca-certificates curl passwd util-linux
chromium"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	# Postfix is only used for smtp-sink/smtp-source and private test
	# instances; the system instance is left unconfigured and not started.
	echo "postfix postfix/main_mailer_type select No configuration" |
	    $SUDO debconf-set-selections
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# The browser tests (tests/browser: playwright-core driving Debian's
# chromium) need Node.js >= 20 with npm, which come with the machine, not
# from Debian (bookworm's nodejs is 18). The lock file pins every package.
BROWSER_DIR=$(cd "$(dirname "$0")/.." && pwd -P)/tests/browser
if [ ! -d "$BROWSER_DIR/node_modules" ]; then
	if command -v npm >/dev/null 2>&1; then
		echo "install-deps: npm ci in tests/browser"
		npm ci --prefix "$BROWSER_DIR" --no-audit --no-fund --loglevel=error
	else
		echo "install-deps: no npm: the browser tests (tests/browser) need Node.js >= 20 and npm" >&2
	fi
fi
