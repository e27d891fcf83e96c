#!/bin/sh
# compare.sh: Next per call, jobctl against robfig/cron v3, on the
# expressions of schedule.BenchmarkNext; prints ns/op per case and the
# geometric mean of the speedups. Usage: testdata/bench/compare.sh [-benchtime 1s]
set -eu
cd "$(dirname "$0")"
go test -run '^$' -bench 'BenchmarkNext' -count 1 "${@:--benchtime=1s}" . | awk '
/^BenchmarkNext\// {
	split($1, p, "/"); lib = p[2]; name = p[3]; sub(/-[0-9]+$/, "", name)
	ns[lib, name] = $3; allocs[lib, name] = $7
	if (lib == "jobctl") order[++n] = name
}
END {
	printf "%-16s %12s %12s %9s %14s\n", "case", "jobctl ns/op", "robfig ns/op", "speedup", "allocs/op j/r"
	logsum = 0
	for (i = 1; i <= n; i++) {
		c = order[i]; s = ns["robfig", c] / ns["jobctl", c]; logsum += log(s)
		printf "%-16s %12.1f %12.1f %8.1fx %8s/%s\n", c, ns["jobctl", c], ns["robfig", c], s, allocs["jobctl", c], allocs["robfig", c]
	}
	printf "geometric mean speedup: %.1fx\n", exp(logsum / n)
}'
