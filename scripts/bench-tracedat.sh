#!/bin/sh
# Times reading large.dat into the model against
# `trace-cmd report -i large.dat > /dev/null` in the same run, and prints
# both timings and the ratio (the goal is at least 10x):
#
#   - per read: BenchmarkTraceDatLarge, 3 reads in one process;
#   - one read: a whole process that reads the file once (start-up, a
#     fresh heap, page faults), with its peak resident memory;
#   - trace-cmd report: one run, with its peak resident memory.
#
# usage: scripts/bench-tracedat.sh [path/to/large.dat]
# The default is $TRACEDIFF_CORPUS/lab/large.dat, or ../shared/corpus/lab
# beside the repository.
set -eu
cd "$(dirname "$0")/.."
corpus=${TRACEDIFF_CORPUS:-$(pwd)/../shared/corpus}
dat=${1:-$corpus/lab/large.dat}
if [ ! -f "$dat" ]; then
	echo "no $dat: pass the path of a trace.dat" >&2
	exit 2
fi
# The benchmark finds large.dat under $TRACEDIFF_CORPUS/lab.
labdir=$(cd "$(dirname "$dat")" && pwd)
if [ "$(basename "$dat")" != large.dat ] || [ "$(basename "$labdir")" != lab ]; then
	echo "the benchmark reads <corpus>/lab/large.dat; got $dat" >&2
	exit 2
fi
export TRACEDIFF_CORPUS=$(dirname "$labdir")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/parse.test" ./parse

# measure runs a command with its output discarded and prints
# "<seconds> <peak KB>" (the peak is 0 without /usr/bin/time).
measure() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -o "$tmp/time" -f '%e %M' "$@" >/dev/null
		cat "$tmp/time"
	else
		start=$(date +%s.%N)
		"$@" >/dev/null
		end=$(date +%s.%N)
		echo "$end $start" | awk '{printf "%.2f 0\n", $1 - $2}'
	fi
}

echo "== BenchmarkTraceDatLarge (3 reads)"
bench=$("$tmp/parse.test" -test.run XXX -test.bench BenchmarkTraceDatLarge -test.benchtime 3x | grep Benchmark)
echo "$bench"
per=$(echo "$bench" | awk '{for (i = 2; i <= NF; i++) if ($i == "ns/op") printf "%.3f", $(i - 1) / 1e9}')

echo "== tracediff: one read of $(basename "$dat") into the model, in its own process"
set -- $(measure "$tmp/parse.test" -test.run XXX -test.bench BenchmarkTraceDatLarge -test.benchtime 1x)
one=$1 onekb=$2
echo "$one s elapsed, $onekb KB peak resident"

if ! command -v trace-cmd >/dev/null; then
	echo "trace-cmd is not installed: nothing to compare with (apt-get install trace-cmd)"
	exit 0
fi
echo "== trace-cmd report -i $(basename "$dat") > /dev/null"
set -- $(measure trace-cmd report -i "$dat")
tc=$1 tckb=$2
echo "$tc s elapsed, $tckb KB peak resident"

echo "== ratio (trace-cmd report time / tracediff time; the goal is 10x)"
awk -v tc="$tc" -v per="$per" -v one="$one" 'BEGIN {
	printf "per read:  %.3f s vs %.2f s: %.1fx\n", per, tc, tc / per
	printf "one read:  %.2f s vs %.2f s: %.1fx (process start-up included)\n", one, tc, tc / one
}'
