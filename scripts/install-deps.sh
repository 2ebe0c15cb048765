#!/bin/sh
# install-deps.sh - install every Debian package sealgate needs to build,
# run and test. Idempotent: does nothing when all of them are present.
set -eu

PKGS="build-essential make pkg-config clang libclang-rt-14-dev llvm
libssl-dev openssl libpq-dev libcmocka-dev libunbound-dev unbound ldnsutils dnsutils
libcurl4-openssl-dev zlib1g-dev libgpgme-dev gnupg gpgsm libgmime-3.0-dev
libmicrohttpd-dev
postgresql postgresql-contrib postgresql-client
postfix swaks libnet-ssleay-perl libio-socket-ssl-perl
python3 procps iproute2 ca-certificates curl passwd util-linux"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

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
