#!/bin/sh
# The store figures of issue 3, measured on the built binary as a user runs
# it: fill a database with N jobs (default 100,000) with one apply, then time
#   - add of one more job (the whole process: start, open, write, exit),
#     median and max of 20 runs;
#   - list -o json of all N jobs;
#   - show of one job (a read of one job in a large database);
# and run the store's Go benchmark of the due-job query with 100 and
# 100,000 jobs (its time must not grow with the number of jobs).
#
#   sh testdata/bench/store.sh [N]
set -eu
cd "$(dirname "$0")/../.."
n=${1:-100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/jobctl" .
export JOBCTL_DB="$tmp/jobs.db" TZ=UTC NO_COLOR=1

ms() { echo "$(( ($2 - $1) / 1000000 ))"; }
now() { date +%s%N; }

awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "[[job]]\nid = \"job-%06d\"\ncommand = \"echo %d\"\ncron = \"%d %d * * *\"\n\n", i, i, i % 60, i % 24
}' >"$tmp/jobs.toml"
t0=$(now)
"$tmp/jobctl" apply -f "$tmp/jobs.toml" >/dev/null 2>&1
t1=$(now)
echo "apply of $n jobs: $(ms "$t0" "$t1") ms (database $(du -h "$JOBCTL_DB" | cut -f1))"

: >"$tmp/add.txt"
for i in $(seq 1 20); do
	t0=$(now)
	"$tmp/jobctl" add --id "extra-$i" --every 1h -- true >/dev/null 2>&1
	t1=$(now)
	ms "$t0" "$t1" >>"$tmp/add.txt"
done
sort -n "$tmp/add.txt" >"$tmp/add.sorted"
echo "add of one more job: median $(sed -n 10p "$tmp/add.sorted") ms, max $(tail -n 1 "$tmp/add.sorted") ms (target < 20 ms)"

t0=$(now)
"$tmp/jobctl" list -o json >"$tmp/list.json"
t1=$(now)
echo "list -o json of $(grep -c '"id":' "$tmp/list.json") jobs: $(ms "$t0" "$t1") ms"

t0=$(now)
"$tmp/jobctl" show job-050000 >/dev/null
t1=$(now)
echo "show of one job: $(ms "$t0" "$t1") ms"

echo "due-job query (store benchmark, ns/op for 100 and 100,000 jobs):"
go test ./store/bolt -run '^$' -bench 'Bolt/.*/Due' -benchtime 1s 2>/dev/null | grep -E '^Benchmark' || true
