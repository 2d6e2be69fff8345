#!/usr/bin/env bash
# bench.sh runs the iteration benchmarks (bench_test.go) in several rounds
# and prints the ratios BENCHMARKS.md tracks, each round's and the median:
#
#   SDK / hand-written     client.Messages.List(...).All() over 20,000
#                          messages against the faster of the two hand-written
#                          net/http + encoding/json loops, timed in the same
#                          iterations, fastest of 8 each
#                          (BenchmarkSDKVsHandWritten); target <= 0.70
#   allocs per message     BenchmarkSDKAll against BenchmarkHandWrittenDecoder
#                          and BenchmarkHandWrittenUnmarshal; target: fewer
#   prefetch / sequential  5 ms server latency + 5 ms caller work per page,
#                          WithPrefetch(1) against none, timed in the same
#                          iterations, fastest of 8 each
#                          (BenchmarkSDKPrefetchVsSequential); target <= 0.60
#
# The separate benchmarks' ns/op are printed too. The time ratios come from
# the paired benchmarks because the machine may be shared: rivals timed
# seconds apart can see very different loads, and other work only ever adds
# time. It exits 1 when a target is missed in any round.
#
# Usage: scripts/bench.sh [rounds]   (default 5; BENCHTIME=2s or PAIRED=16x
# to lengthen the separate or the paired benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-5}
benchtime=${BENCHTIME:-1s}
paired=${PAIRED:-8x} # iterations of the paired benchmarks per round
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go version
echo "nproc: $(nproc)"
go test -c -o "$tmp/convo.test" .
for ((i = 1; i <= rounds; i++)); do
	"$tmp/convo.test" -test.run '^$' -test.bench '^Benchmark(HandWritten|SDK)' \
		-test.benchmem -test.count 1 -test.benchtime "$benchtime" |
		grep '^Benchmark' | grep -v 'Vs' | tee -a "$tmp/out.txt"
	"$tmp/convo.test" -test.run '^$' -test.bench '^BenchmarkSDK.*Vs' \
		-test.benchmem -test.count 1 -test.benchtime "$paired" |
		grep '^Benchmark' | tee -a "$tmp/out.txt"
done

awk -v items=20000 '
function median(key,    n, i, j, v, a) {
	n = count[key]
	for (i = 1; i <= n; i++) a[i] = val[key, i]
	for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
	name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
	# every "value unit" pair of the line, keyed "name unit"
	for (f = 3; f < NF; f += 2) { key = name " " $(f + 1); val[key, ++count[key]] = $f }
}
END {
	fail = 0
	n = count["SDKVsHandWritten sdk/hand"]
	printf "\n%-5s | %9s %9s %9s %8s %6s | %22s %8s %4s | %12s %6s\n", "round", "dec min", "unm min", "SDK min", "SDK/hand", "", "allocs/msg dec/unm/SDK", "", "", "prefetch/seq", ""
	for (k = 1; k <= n; k++) {
		r = val["SDKVsHandWritten sdk/hand", k]
		ad = val["HandWrittenDecoder allocs/op", k] / items
		au = val["HandWrittenUnmarshal allocs/op", k] / items
		as = val["SDKAll allocs/op", k] / items
		p = val["SDKPrefetchVsSequential prefetch/seq", k]
		okT = r <= 0.70 ? "ok" : "MISSED"
		okA = (as < ad && as < au) ? "ok" : "MISSED"
		okP = p <= 0.60 ? "ok" : "MISSED"
		if (okT != "ok" || okA != "ok" || okP != "ok") fail = 1
		printf "%-5d | %9.1f %9.1f %9.1f %8.3f %6s | %6.2f / %6.2f / %6.2f %4s | %12.3f %6s\n", k,
			val["SDKVsHandWritten decoder-min-ns", k] / 1e6, val["SDKVsHandWritten unmarshal-min-ns", k] / 1e6,
			val["SDKVsHandWritten sdk-min-ns", k] / 1e6, r, okT, ad, au, as, okA, p, okP
	}
	printf "\nmedians over %d rounds\n", n
	printf "  paired, fastest ms per 20,000 messages: decoder %.1f, unmarshal %.1f, SDK %.1f\n",
		median("SDKVsHandWritten decoder-min-ns") / 1e6, median("SDKVsHandWritten unmarshal-min-ns") / 1e6, median("SDKVsHandWritten sdk-min-ns") / 1e6
	printf "  paired, mean ms per 20,000 messages:    decoder %.1f, unmarshal %.1f, SDK %.1f\n",
		median("SDKVsHandWritten decoder-ns/op") / 1e6, median("SDKVsHandWritten unmarshal-ns/op") / 1e6, median("SDKVsHandWritten sdk-ns/op") / 1e6
	printf "  SDK / faster hand-written loop:  %.3f  (target <= 0.70)\n", median("SDKVsHandWritten sdk/hand")
	printf "  separate benchmarks, ms: HandWrittenDecoder %.1f, HandWrittenUnmarshal %.1f, SDKAll %.1f\n",
		median("HandWrittenDecoder ns/op") / 1e6, median("HandWrittenUnmarshal ns/op") / 1e6, median("SDKAll ns/op") / 1e6
	printf "  allocs per message: HandWrittenDecoder %.2f, HandWrittenUnmarshal %.2f, SDKAll %.2f  (target: SDK fewer)\n",
		median("HandWrittenDecoder allocs/op") / items, median("HandWrittenUnmarshal allocs/op") / items, median("SDKAll allocs/op") / items
	printf "  paired, fastest ms per 20 slow pages: sequential %.1f, prefetch(1) %.1f\n",
		median("SDKPrefetchVsSequential sequential-min-ns") / 1e6, median("SDKPrefetchVsSequential prefetch1-min-ns") / 1e6
	printf "  paired, mean ms per 20 slow pages:    sequential %.1f, prefetch(1) %.1f\n",
		median("SDKPrefetchVsSequential sequential-ns/op") / 1e6, median("SDKPrefetchVsSequential prefetch1-ns/op") / 1e6
	printf "  prefetch(1) / sequential:        %.3f  (target <= 0.60)\n", median("SDKPrefetchVsSequential prefetch/seq")
	printf "  separate benchmarks, ms: SDKSlowSequential %.1f, SDKSlowPrefetch1 %.1f\n",
		median("SDKSlowSequential ns/op") / 1e6, median("SDKSlowPrefetch1 ns/op") / 1e6
	if (fail) { print "\nA target was missed in at least one round."; exit 1 }
	print "\nEvery target held in every round."
}' "$tmp/out.txt"
