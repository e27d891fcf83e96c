#!/bin/sh
# The figures of the README's Reliability section (issue 6), in one command:
#
#   sh testdata/bench/reliability.sh [FUZZTIME]
#
# 1. The reliability suite at full size (go test ./cmd -run TestReliability
#    -long): SIGKILLs survived and fire times accounted for, concurrent
#    commands, peak RSS of the scheduler under a 1 GiB output flood, runs
#    without a stray process or zombie, how soon a scheduler notices its
#    database moved and runs again once it is back, and how soon it resumes
#    once a full disk has space again. Each test logs its figures as
#    "figure: NAME = VALUE" lines, printed here. (The clock-jump test runs
#    on a fake clock, in go test ./runner, at full size always.)
# 2. Every fuzz target of the module, each for FUZZTIME (default 60s), with
#    the executions it made. A target that fails leaves its input in its
#    package's testdata/fuzz/ (commit it, with the fix) and is reported.
#
# It takes about 5 minutes plus 8 x FUZZTIME on 2 cores. The exit status is
# 1 if any test or fuzz target failed.
set -u
cd "$(dirname "$0")/../.."
fuzztime=${1:-60s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

echo "== reliability suite (-long)"
if ! go test ./cmd -run '^TestReliability$' -count 1 -v -timeout 60m -args -long >"$tmp/suite.log" 2>&1; then
	status=1
	grep -E -- '^\s*--- FAIL|_test.go:[0-9]+:' "$tmp/suite.log" | grep -v 'figure:' | head -40
fi
sed -n 's/^.*figure: //p' "$tmp/suite.log"

echo "== fuzzing, $fuzztime per target"
total=0
for f in $(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do
	pkg=./$(dirname "${f#./}")
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
		log="$tmp/fuzz.log"
		if go test "$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s >"$log" 2>&1; then
			result=ok
		else
			result="FAILED: $(grep -E 'Failing input written|--- FAIL' "$log" | head -2 | tr -s ' \n' ' ')"
			status=1
		fi
		execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
		execs=${execs:-0}
		total=$((total + execs))
		printf '%-24s %-28s %12d execs  %s\n' "$pkg" "$target" "$execs" "$result"
	done
done
echo "fuzz executions in all: $total"
exit $status
