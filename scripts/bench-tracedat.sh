#!/bin/sh
# Times reading large.dat into the model (BenchmarkTraceDatLarge) against
# `trace-cmd report -i large.dat > /dev/null`, when trace-cmd is installed,
# and prints the elapsed time and peak resident memory of one run of each.
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

echo "== BenchmarkTraceDatLarge (3 reads)"
"$tmp/parse.test" -test.run XXX -test.bench BenchmarkTraceDatLarge -test.benchtime 3x | grep Benchmark

measure() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%e s elapsed, %M KB peak resident' "$@" >/dev/null
	else
		start=$(date +%s.%N)
		"$@" >/dev/null
		end=$(date +%s.%N)
		echo "$end $start" | awk '{printf "%.2f s elapsed\n", $1 - $2}'
	fi
}

echo "== tracediff: one read of $(basename "$dat") into the model"
measure "$tmp/parse.test" -test.run XXX -test.bench BenchmarkTraceDatLarge -test.benchtime 1x

if command -v trace-cmd >/dev/null; then
	echo "== trace-cmd report -i $(basename "$dat") > /dev/null"
	measure trace-cmd report -i "$dat"
else
	echo "trace-cmd is not installed: nothing to compare with (apt-get install trace-cmd)"
fi
