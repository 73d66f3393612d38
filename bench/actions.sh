#!/usr/bin/env bash
# client_credentials with no action and with one action bound to
# credentials-exchange, side by side against one `authok dev`: a minimal
# WAT module (actions-runtime/examples/wat/minimal.wat), the Go-SDK
# example (actions-runtime/examples/go/credentials-exchange) and a
# one-claim JavaScript action (bench/actions/one-claim.js). Each round runs
# the four in turn (the order rotates per round); loadgen deploys and binds
# the action through the Management API, waits until a token carries its
# claim (deploy-to-ready, printed), runs the load and unbinds it again.
# Prints loadgen's table per run and, at the end, a summary per variant:
# tokens per server CPU-second, p50/p99 and the server CPU each action adds
# per token (medians over the rounds). Results: bench/README.md, "Actions".
#
# Usage: [VARIANTS="none minimal gosdk js"] bench/actions.sh [-rounds N] [-duration D] [-concurrency C] [-alg ALG]
#   defaults: 3 rounds, 10s, 4 connections, EdDSA (the cheapest signature,
#   so the action's share shows)
# Needs wat2wasm (wabt), curl and jq; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

rounds=3
duration=10s
concurrency=4
alg=EdDSA
while [ $# -gt 0 ]; do
	case "$1" in
	-rounds) rounds=${2:?-rounds needs a value}; shift 2 ;;
	-duration) duration=${2:?-duration needs a value}; shift 2 ;;
	-concurrency) concurrency=${2:?-concurrency needs a value}; shift 2 ;;
	-alg) alg=${2:?-alg needs a value}; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "actions.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
done
case "$rounds" in '' | *[!0-9]* | 0) echo "actions.sh: -rounds must be a positive integer" >&2; exit 2 ;; esac
for tool in wat2wasm curl jq; do
	command -v "$tool" >/dev/null || { echo "actions.sh: needs $tool" >&2; exit 2; }
done

work=$(mktemp -d)
pid=
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; fi; }
trap 'stop; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

make --no-print-directory build BIN="$work/authok" >/dev/null
go build -o "$work/loadgen" ./bench/cmd/loadgen
wat2wasm actions-runtime/examples/wat/minimal.wat -o "$work/minimal.wasm"
(cd actions-runtime/examples/go/credentials-exchange &&
	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o "$work/gosdk.wasm" .)
cp bench/actions/one-claim.js "$work/js.js"

port=18580
data="$work/data"
"$work/authok" dev --data-dir "$data" --listen "127.0.0.1:$port" >"$work/authok.log" 2>&1 &
pid=$!
wait_dev_ready "$pid" "$data" "$port" "$work/authok.log" actions.sh

read -ra variants <<<"${VARIANTS:-none minimal gosdk js}"
for ((round = 1; round <= rounds; round++)); do
	n=${#variants[@]}
	for ((i = 0; i < n; i++)); do
		v=${variants[$(((i + round - 1) % n))]}
		echo "== round $round/$rounds: $v"
		action=()
		case "$v" in
		minimal | gosdk) action=(--action "$work/$v.wasm") ;;
		js) action=(--action "$work/js.js") ;;
		esac
		"$work/loadgen" --url "http://127.0.0.1:$port" --bootstrap-file "$data/bootstrap.json" \
			--scenario client-credentials --alg "$alg" --concurrency "$concurrency" \
			--duration "$duration" --server-pid "$pid" --sign-ops 0 "${action[@]}" \
			--out "$work/$v-$round.json" >"$work/$v-$round.txt" || echo "actions.sh: loadgen exited $? (errors during the run: see below)"
		grep -E '^(scenario|client-credentials|action|machine|warning|error)' "$work/$v-$round.txt"
	done
done

echo
echo "== medians over $rounds rounds ($alg, $concurrency connections, $duration each)"
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
base=$(for f in "$work"/none-*.json; do jq .result.server_cpu.per_request_us "$f"; done | median)
printf '%-8s %14s %10s %10s %14s %16s\n' variant "tokens/CPU-s" p50-ms p99-ms "added CPU µs" "deploy→ready ms"
for v in "${variants[@]}"; do
	cpu=$(for f in "$work/$v"-*.json; do jq .result.server_cpu.per_request_us "$f"; done | median)
	p50=$(for f in "$work/$v"-*.json; do jq .result.latency_ms.p50 "$f"; done | median)
	p99=$(for f in "$work/$v"-*.json; do jq .result.latency_ms.p99 "$f"; done | median)
	ready=-
	if [ "$v" != none ]; then ready=$(for f in "$work/$v"-*.json; do jq .action.deploy_to_ready_ms "$f"; done | median); fi
	awk -v v="$v" -v cpu="$cpu" -v base="$base" -v p50="$p50" -v p99="$p99" -v ready="$ready" \
		'BEGIN { printf "%-8s %14.0f %10.3f %10.3f %14.1f %16s\n", v, 1e6 / cpu, p50, p99, cpu - base, ready }'
done
