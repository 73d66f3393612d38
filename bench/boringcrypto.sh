#!/usr/bin/env bash
# Compares the token path built two ways: the default pure-Go crypto and
# GOEXPERIMENT=boringcrypto (BoringCrypto through cgo). It builds each
# package's test binary once per way, runs the benchmarks of the two ways
# alternately (the order flips every round, so drift on a shared machine
# falls on both), then prints a benchstat comparison. Figures and the
# command that made them: bench/README.md, "BoringCrypto".
#
# Usage: bench/boringcrypto.sh [-count N] [-benchtime D] [-out DIR]
#   -count N      rounds per way (default 6; benchstat wants at least 6
#                 for a confidence interval)
#   -benchtime D  per benchmark per round, as go test -benchtime (default 1s)
#   -out DIR      keep the raw outputs there (default: a temp dir, removed)
#
# Needs cgo and a C compiler; exits 2 without them.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
count=6
benchtime=1s
out=""
while [ $# -gt 0 ]; do
	case "$1" in
	-count) count=${2:?-count needs a value}; shift 2 ;;
	-benchtime) benchtime=${2:?-benchtime needs a value}; shift 2 ;;
	-out) out=${2:?-out needs a value}; shift 2 ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "boringcrypto.sh: unknown argument $1 (see -h)" >&2; exit 2 ;;
	esac
done
case "$count" in '' | *[!0-9]* | 0) echo "boringcrypto.sh: -count must be a positive integer" >&2; exit 2 ;; esac

if [ "$(go env CGO_ENABLED)" != 1 ]; then
	echo "boringcrypto.sh: GOEXPERIMENT=boringcrypto needs cgo, and go env CGO_ENABLED is not 1" >&2
	exit 2
fi
cc=$(go env CC)
if ! command -v "${cc%% *}" >/dev/null; then
	echo "boringcrypto.sh: GOEXPERIMENT=boringcrypto needs a C compiler, and $cc (go env CC) is not installed" >&2
	exit 2
fi

if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

# package dir, benchmark regexp (the whole token handler and the bare
# signature in edge/token; Sign and the bare signature in shared/tokens)
packages=(
	"shared/tokens" '^Benchmark(Sign|RawSignature)$'
	"edge/token" '^Benchmark(TokenClientCredentials|RawSignature)$'
)

for way in go boring; do
	rm -f "$out/$way.txt"
	for ((i = 0; i < ${#packages[@]}; i += 2)); do
		pkg=${packages[i]}
		bin="$out/$way-${pkg//\//-}.test"
		echo "== build $pkg ($way)"
		if [ "$way" = boring ]; then
			GOEXPERIMENT=boringcrypto go test -c -o "$bin" "./$pkg"
		else
			GOEXPERIMENT= go test -c -o "$bin" "./$pkg"
		fi
	done
done
# A boringcrypto build that silently fell back to Go would compare Go with Go.
if ! go version -m "$out/boring-shared-tokens.test" | grep -q 'GOEXPERIMENT=boringcrypto'; then
	echo "boringcrypto.sh: the boring test binary was not built with GOEXPERIMENT=boringcrypto" >&2
	exit 1
fi

run() { # way pkg regexp
	local bin="$out/$1-${2//\//-}.test" last="$out/last.txt"
	if ! (cd "$2" && "$bin" -test.run '^$' -test.bench "$3" -test.benchtime "$benchtime" \
		-test.count 1 -test.benchmem) >"$last" 2>&1; then
		cat "$last" >&2
		echo "boringcrypto.sh: the $1 benchmarks of $2 failed" >&2
		exit 1
	fi
	cat "$last" >>"$out/$1.txt"
	grep -E '^Benchmark' "$last" || true
}

for ((round = 1; round <= count; round++)); do
	if ((round % 2)); then order="go boring"; else order="boring go"; fi
	for way in $order; do
		echo "== round $round/$count: $way"
		for ((i = 0; i < ${#packages[@]}; i += 2)); do
			run "$way" "${packages[i]}" "${packages[i + 1]}"
		done
	done
done

echo
echo "== $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //'), $(go version)"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
go run "$BENCHSTAT" go="$out/go.txt" boring="$out/boring.txt"
