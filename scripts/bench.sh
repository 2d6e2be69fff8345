#!/usr/bin/env bash
# bench.sh runs the benchmarks of bench_providers_test.go and bench_test.go in
# several rounds and prints the ratios BENCHMARKS.md tracks, per round and
# their medians:
#
#   sdk/hand            for each of the 8 lists (4 providers x conversations,
#                       messages; 20,000 items each): All() against the
#                       hand-written net/http + encoding/json loop on the same
#                       server and transport, fastest of the iterations of
#                       each, interleaved (BenchmarkVsHandWritten);
#                       target <= 0.60
#   allocs/item         the same runs' heap allocations per item, SDK and
#                       hand-written; target: SDK <= hand-written
#   throughput          16 goroutines sharing one client made with default
#                       options against 16 hand-written loops, per provider,
#                       interleaved (BenchmarkConcurrentVsHandWritten);
#                       target >= 1.5; with the new connections of each side
#   prefetch/seq        5 ms server latency + 5 ms caller work per page,
#                       WithPrefetch(1) against none
#                       (BenchmarkSDKPrefetchVsSequential); target <= 0.60
#
# Rivals run one after the other inside each benchmark iteration because the
# machine may be shared: rivals timed seconds apart see different loads, and
# other work only ever adds time. It exits 1 when a target is missed in the
# medians, and says which rounds missed one.
#
# Usage: scripts/bench.sh [rounds]   (default 3; ITER=8x sets the iterations
# per benchmark and round)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
iter=${ITER:-6x}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go version
echo "nproc: $(nproc), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
go test -c -o "$tmp/convo.test" .
for ((i = 1; i <= rounds; i++)); do
	"$tmp/convo.test" -test.run '^$' \
		-test.bench '^(BenchmarkVsHandWritten|BenchmarkConcurrentVsHandWritten|BenchmarkSDKPrefetchVsSequential)$' \
		-test.benchtime "$iter" -test.count 1 | grep '^Benchmark' | sed "s/^/$i /" | tee -a "$tmp/out.txt"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

awk '
function median(key,    n, i, j, v, a) {
	n = count[key]
	for (i = 1; i <= n; i++) a[i] = val[key, i]
	for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# rounds_of(key): the value of key in each round, in order.
function rounds_of(key,    r, s) {
	s = ""
	for (r = 1; r <= rounds; r++) s = s sprintf("%.3f ", per[key, r])
	return s
}
# verdict(ok): "ok", or "MISSED" and the run fails.
function verdict(ok) {
	if (ok) return "ok"
	fail = 1
	return "MISSED"
}
{
	round = $1; name = $2; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
	if (!(name in seen)) { seen[name] = 1; order[++names] = name }
	for (f = 4; f < NF; f += 2) { key = name " " $(f + 1); val[key, ++count[key]] = $f; per[key, round] = $f }
	rounds = round > rounds ? round : rounds
}
END {
	fail = 0
	printf "\n%-42s %-26s %8s %22s %s\n", "case", "per round", "median", "allocs/item sdk/hand", ""
	for (k = 1; k <= names; k++) {
		n = order[k]
		if (n ~ /^VsHandWritten/) {
			key = n " sdk/hand"
			m = median(key); as = median(n " sdk-allocs/item"); ah = median(n " hand-allocs/item")
			printf "%-42s %-26s %8.3f %10.2f / %-9.2f %s\n", n " (sdk/hand time)", rounds_of(key), m, as, ah, verdict(m <= 0.60 && as <= ah)
		}
	}
	printf "\n%-42s %-26s %8s %22s %s\n", "16 goroutines", "per round", "median", "new conns sdk/hand", ""
	for (k = 1; k <= names; k++) {
		n = order[k]
		if (n ~ /^ConcurrentVsHandWritten/) {
			key = n " sdk/hand-throughput"; m = median(key)
			printf "%-42s %-26s %8.3f %10.1f / %-9.1f %s\n", n " (sdk/hand throughput)", rounds_of(key), m, median(n " sdk-conns"), median(n " hand-conns"), verdict(m >= 1.5)
		}
	}
	key = "SDKPrefetchVsSequential prefetch/seq"; m = median(key)
	printf "\n%-42s %-26s %8.3f %22s %s\n", "prefetch(1)/sequential", rounds_of(key), m, "", verdict(m <= 0.60)
	printf "\n(requests per 16-goroutine run: 320; items per list: 20,000)\n"
	if (fail) { print "A target was missed in the medians."; exit 1 }
	print "Every target held in the medians."
}' "$tmp/out.txt"
