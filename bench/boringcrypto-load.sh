#!/usr/bin/env bash
# The whole server on both crypto builds: builds bin/authok twice (make
# build and make build-boring, into a temp dir), then for each round starts
# `authok dev` of one build on a fresh data dir, drives it with the load
# generator (client-credentials, each --alg in turn) and stops it; the
# order of the builds flips every round. Prints loadgen's table per run;
# the figure to compare is "server CPU/req". Results: bench/README.md,
# "BoringCrypto".
#
# Usage: bench/boringcrypto-load.sh [-rounds N] [-duration D] [-concurrency C] [ALG...]
#   defaults: 2 rounds, 10s, 4 connections, RS256 ES256
# Needs cgo, a C compiler and curl; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

rounds=2
duration=10s
concurrency=4
while [ $# -gt 0 ]; do
	case "$1" in
	-rounds) rounds=${2:?-rounds needs a value}; shift 2 ;;
	-duration) duration=${2:?-duration needs a value}; shift 2 ;;
	-concurrency) concurrency=${2:?-concurrency needs a value}; shift 2 ;;
	-h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "boringcrypto-load.sh: unknown flag $1 (see -h)" >&2; exit 2 ;;
	*) break ;;
	esac
done
case "$rounds" in '' | *[!0-9]* | 0) echo "boringcrypto-load.sh: -rounds must be a positive integer" >&2; exit 2 ;; esac
algs=("$@")
[ ${#algs[@]} -gt 0 ] || algs=(RS256 ES256)
command -v curl >/dev/null || { echo "boringcrypto-load.sh: needs curl" >&2; exit 2; }

work=$(mktemp -d)
pid=
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi; }
trap 'stop; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

make --no-print-directory build BIN="$work/authok-go" >/dev/null
out=$(make --no-print-directory build-boring BIN="$work/authok-boring")
if ! "$work/authok-boring" version | grep -q '^crypto: BoringCrypto'; then
	echo "$out" >&2
	echo "boringcrypto-load.sh: make build-boring did not give a BoringCrypto binary" >&2
	exit 1
fi
go build -o "$work/loadgen" ./bench/cmd/loadgen

port=18480
for ((round = 1; round <= rounds; round++)); do
	if ((round % 2)); then order="go boring"; else order="boring go"; fi
	for way in $order; do
		port=$((port + 1))
		data="$work/data-$way-$round"
		"$work/authok-$way" dev --data-dir "$data" --listen "127.0.0.1:$port" >"$data.log" 2>&1 &
		pid=$!
		wait_dev_ready "$pid" "$data" "$port" "$data.log" "boringcrypto-load.sh ($way)"
		for alg in "${algs[@]}"; do
			echo "== round $round/$rounds: $way, $alg"
			"$work/loadgen" --url "http://127.0.0.1:$port" --bootstrap-file "$data/bootstrap.json" \
				--scenario client-credentials --alg "$alg" --concurrency "$concurrency" \
				--duration "$duration" --server-pid "$pid" | grep -E '^(scenario|client-credentials|machine|warning)'
		done
		stop
	done
done
