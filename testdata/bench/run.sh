#!/bin/sh
# run.sh: jobctl run's scheduling figures of issue 4, each beside a floor
# (a minimal program that only starts the same commands at the same
# instants), measured by the jobs themselves; see runner/internal/bench.
# About two minutes. Usage:
#
#   sh testdata/bench/run.sh [-only abcd] [-seconds 10] [-backlog 3000] [-idle 30s]
set -eu
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/jobctl" .
go build -o "$tmp/bench" ./runner/internal/bench
"$tmp/bench" -jobctl "$tmp/jobctl" -dir "$tmp" "$@"
