#!/bin/sh
# smoke.sh - run every built fuzz target on its seed corpus for a short
# while; fail if any of them crashes, leaks, times out or runs out of
# memory. Run from the repository root (make fuzz-smoke does).
#
#   FUZZ_SECONDS   seconds per target (default 10)
#   FUZZ_RSS_MB    memory limit per target (default 2048)
#   FUZZ_DIR       where the binaries are (default build-fuzz)
#
# New inputs go to a scratch directory, never into the seed corpus;
# crash reproducers go to $FUZZ_DIR/artifacts/.
set -eu

seconds=${FUZZ_SECONDS:-10}
rss=${FUZZ_RSS_MB:-2048}
dir=${FUZZ_DIR:-build-fuzz}

if [ ! -d tests/fuzz ]; then
	echo "smoke.sh: run from the repository root" >&2
	exit 2
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT INT TERM
mkdir -p "$dir/artifacts"

ran=0
failed=""
for bin in "$dir"/fuzz_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		continue
	fi
	name=$(basename "$bin")
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=tests/fuzz/corpus/${name#fuzz_}
	# A target's own dictionary, else the shared SMTP one.
	dict=""
	if [ -f "tests/fuzz/$name.dict" ]; then
		dict=tests/fuzz/$name.dict
	else
		case $name in
		fuzz_smtp_*) dict=tests/fuzz/smtp.dict ;;
		esac
	fi
	work=$scratch/$name
	mkdir -p "$work"
	set -- -max_total_time="$seconds" -rss_limit_mb="$rss" \
	    -timeout=25 -print_final_stats=1 \
	    -artifact_prefix="$dir/artifacts/$name-"
	[ -n "$dict" ] && set -- "$@" -dict="$dict"
	set -- "$@" "$work"
	[ -d "$seeds" ] && set -- "$@" "$seeds"
	echo "== $name (${seconds}s, seeds: ${seeds}, dict: ${dict:-none})"
	log=$scratch/$name.log
	if "$bin" "$@" >"$log" 2>&1; then
		grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb):' \
		    "$log" | sed 's/^/   /' || true
	else
		tail -n 40 "$log" >&2
		echo "smoke.sh: $name FAILED (reproducers in $dir/artifacts/)" >&2
		failed="$failed $name"
	fi
	ran=$((ran + 1))
done

if [ "$ran" -eq 0 ]; then
	echo "smoke.sh: no fuzz targets in $dir/ (run make fuzz)" >&2
	exit 1
fi
if [ -n "$failed" ]; then
	echo "smoke.sh: failed:$failed" >&2
	exit 1
fi
echo "smoke.sh: $ran targets ok"
