#!/bin/sh
# lint.sh - refuse banned C functions (the curl checker's list).
set -eu
cd "$(dirname "$0")/.."
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|strncpy|atoi|atol|sscanf|alloca)[[:space:]]*\('
if grep -rnE "$banned" --include='*.c' --include='*.h' gateway crypto db escrow-web tests/unit tests/fuzz tests/tools; then
	echo "lint: banned function used (see STYLE: use buf/snprintf/num_parse_*)" >&2
	exit 1
fi
echo "lint: ok"
