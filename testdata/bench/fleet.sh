#!/usr/bin/env bash
# fleet.sh: a fleet of three jobctl run on one PostgreSQL database, with
# real processes, one scheduler killed and another frozen midway. About
# two minutes. Usage:
#
#   bash testdata/bench/fleet.sh
#   FLEET_SECONDS=10 FLEET_JOBS=50 bash testdata/bench/fleet.sh   # a smoke run
#
# It starts a throwaway PostgreSQL (as internal/pgtest does: its own
# cluster in a temporary directory, a Unix socket only, fsync off, run as
# the postgres user when we are root), applies FLEET_JOBS jobs firing every
# second for FLEET_SECONDS seconds (the first FLEET_LONG of them sleep 5 s,
# with max_instances = 10 and recover = true, so that runs are in flight
# when a scheduler dies), and starts three jobctl run on it. At
# FLEET_KILL_AT seconds it SIGKILLs the first and SIGSTOPs the second, and
# SIGCONTs the second FLEET_STOP_FOR seconds later (longer than the 10 s
# lease). Then it reports, from the database's run records (jobctl_runs):
#
#   - what became of each fire time: run to the end once, as attempt 2 after
#     a takeover, missed/skipped/interrupted with their reasons, no record;
#   - fire times run twice: in the database (two live or finished first
#     attempts of one fire time; a second attempt after an interruption is
#     not one), and by the jobs' own side effects (each appends its job,
#     fire time and attempt to a file: a line twice is a run twice);
#   - the runs each scheduler made;
#   - start lateness (started - fire time, from the run records), p50/p99;
#   - the time from the SIGKILL (and the SIGSTOP) until the survivors had
#     recorded that scheduler's running runs interrupted, polled every
#     200 ms;
#   - the wall time of FLEET_ADDS whole `jobctl add` commands;
# and, for comparison on the same machine in the same run, the lateness of
# one jobctl run on a bbolt file with the same jobs for FLEET_BOLT_SECONDS
# (0: skip), and the time of jobctl add there.
set -euo pipefail
cd "$(dirname "$0")/../.."

secs=${FLEET_SECONDS:-60}
njobs=${FLEET_JOBS:-500}
nlong=${FLEET_LONG:-30}
kill_at=${FLEET_KILL_AT:-$((secs / 3))}
stop_for=${FLEET_STOP_FOR:-15}
adds=${FLEET_ADDS:-20}
bolt_secs=${FLEET_BOLT_SECONDS:-10}
grace=8 # after the last fire time: the long jobs end, and the records with them
((nlong <= njobs)) || nlong=$njobs

for tool in jq runuser; do
	command -v "$tool" >/dev/null || { echo "fleet.sh: needs $tool" >&2; exit 2; }
done
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z $pgbin ]]; then
	pgbin=$(dirname "$(command -v pg_ctl)") || { echo "fleet.sh: no PostgreSQL (apt-get install postgresql)" >&2; exit 2; }
fi

tmp=$(mktemp -d /tmp/jobctl-fleet.XXXXXX)
pg=$tmp/pg # the cluster and its socket, the postgres user's when we are root
children=()
cleanup() {
	set +e
	for p in "${children[@]}"; do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	[[ -f $pg/data/postmaster.pid ]] && as_pg "$pgbin/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null 2>&1
	rm -rf "$tmp"
}
trap 'status=$?; ((status == 0)) || [[ ! -s $tmp/cmd.log ]] || tail -n 5 "$tmp/cmd.log" >&2; cleanup' EXIT
trap 'exit 130' INT TERM

as_pg() {
	if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}
now_ns() { date +%s%N; }
# sleep_until SECONDS: wait for the Unix time SECONDS (an integer).
sleep_until() {
	local d=$(($1 * 1000000000 - $(now_ns)))
	((d <= 0)) || sleep "$((d / 1000000000)).$(printf %09d $((d % 1000000000)))"
}
sql() { "$pgbin/psql" -X -q -At -F ' ' -h "$pg" -U postgres -d "${db:-fleet}" -c "$1"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# jobfile T0 SECONDS: the jobs, firing every second from T0 for SECONDS.
jobfile() {
	local start end i cmd
	start=$(iso "$1")
	end=$(iso $(($1 + $2 - 1)))
	printf '[scheduler]\nhistory_limit = 1000\n\n[executors.default]\nmax_workers = 100\n\n'
	# The long jobs are spread over the ids (every njobs/nlong-th), so that
	# each scheduler's claims hold some: claims go in id order.
	for ((i = 0; i < njobs; i++)); do
		cmd='echo "$JOBCTL_JOB_ID $JOBCTL_FIRE_TIME $JOBCTL_ATTEMPT $JOBCTL_SCHEDULER" >>'$tmp/effects
		if ((nlong > 0 && i % (njobs / nlong) == 0 && i / (njobs / nlong) < nlong)); then
			printf '[[job]]\nid = "j%04d-long"\ncommand = '"'"'%s; sleep 5'"'"'\nevery = "1s"\nstart = %s\nend = %s\nmax_instances = 10\nrecover = true\n\n' "$i" "$cmd" "$start" "$end"
		else
			printf '[[job]]\nid = "j%04d"\ncommand = '"'"'%s'"'"'\nevery = "1s"\nstart = %s\nend = %s\n\n' "$i" "$cmd" "$start" "$end"
		fi
	done
}

# lateness FILTER: p50, p99 and max of started - fire time, in ms, of the
# runs that jobctl history -o json prints for which the jq FILTER holds
# (one definition for both engines).
lateness() {
	TZ=UTC "$tmp/jobctl" history -n 0 -o json | jq -r '
		def t: capture("^(?<s>[^.Z]+)(\\.(?<f>[0-9]+))?Z$") | (.s + "Z" | fromdateiso8601) + ("0." + (.f // "0") | tonumber);
		.[] | select(.started_at != null) | select('"$1"') | ((.started_at | t) - (.fire_time | t)) * 1000' |
		sort -g | awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "no runs started"; exit }
			printf "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d runs)", v[int((NR - 1) * 0.50) + 1], v[int((NR - 1) * 0.99) + 1], v[NR], NR }'
}

# stop PID...: SIGTERM, and wait (at most 20 s) for them to exit; then
# SIGKILL.
stop() {
	local n p alive
	kill -TERM "$@" 2>/dev/null || true
	for ((n = 0; n < 100; n++)); do
		alive=0
		for p; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || return 0
		sleep 0.2
	done
	kill -KILL "$@" 2>/dev/null || true
}

# time_adds DB: mean, median and max wall time of $adds whole jobctl add.
time_adds() {
	local i t0 t1
	: >"$tmp/adds"
	for ((i = 1; i <= adds; i++)); do
		t0=$(now_ns)
		JOBCTL_DB=$1 "$tmp/jobctl" add --id "add-$i" --every 1h -- true >/dev/null 2>>"$tmp/cmd.log"
		t1=$(now_ns)
		echo $(((t1 - t0) / 1000)) >>"$tmp/adds"
	done
	sort -n "$tmp/adds" | awk '{ v[NR] = $1; s += $1 } END {
		printf "mean %.1f ms, median %.1f ms, max %.1f ms (%d commands)", s / NR / 1000, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000, NR }'
}

# poll OWNER SINCE_NS OUT: writes to OUT the ms from SINCE_NS until the
# survivors removed OWNER from the fleet, and until the first run of OWNER
# was recorded interrupted (polled every 200 ms, for at most 60 s).
poll() {
	local deadline=$(($(now_ns) + 60000000000)) left=- interrupted=-
	while (($(now_ns) < deadline)) && [[ $left == - || $interrupted == - ]]; do
		sql "SELECT (SELECT count(*) FROM jobctl_schedulers WHERE id = '$1'),
			(SELECT count(*) FROM jobctl_runs WHERE owner = '$1' AND outcome = 'interrupted')" | {
			read -r member runs
			[[ $left != - || $member != 0 ]] || left=$((($(now_ns) - $2) / 1000000))
			[[ $interrupted != - || $runs == 0 ]] || interrupted=$((($(now_ns) - $2) / 1000000))
			echo "$left $interrupted"
		} >"$3.now"
		read -r left interrupted <"$3.now"
		sleep 0.2
	done
	echo "removed from the fleet after $left ms, its first running run recorded interrupted after $interrupted ms" >"$3"
}

echo "== jobctl fleet: 3 schedulers on one PostgreSQL, $njobs jobs every second for $secs s ($nlong of them sleep 5 s), $(nproc) CPUs"
go build -o "$tmp/jobctl" .
mkdir "$pg"
((EUID != 0)) || chown postgres: "$pg"
chmod 755 "$tmp"
as_pg "$pgbin/initdb" -D "$pg/data" -U postgres -A trust -E UTF8 --no-sync --no-instructions >/dev/null
as_pg "$pgbin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
	-o "-c listen_addresses= -k $pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
db=postgres sql "CREATE DATABASE fleet"
export JOBCTL_DB="postgres://postgres@/fleet?host=$pg&sslmode=disable" TZ=UTC NO_COLOR=1
echo "PostgreSQL $("$pgbin/postgres" --version | grep -Eo '[0-9]+\.[0-9]+' | head -n 1) in $pg (fsync off)"

t0=$(($(date +%s) + 6))
jobfile "$t0" "$secs" >"$tmp/jobs.toml"
a0=$(now_ns)
"$tmp/jobctl" apply -f "$tmp/jobs.toml" >/dev/null 2>>"$tmp/cmd.log"
echo "apply of $njobs jobs: $((($(now_ns) - a0) / 1000000)) ms"

name=([1]=A [2]=B [3]=C)
role=([1]="SIGKILLed" [2]="SIGSTOPped ${stop_for} s" [3]="untouched")
for i in 1 2 3; do
	"$tmp/jobctl" run >/dev/null 2>"$tmp/${name[i]}.log" &
	children+=($!)
	pid[i]=$!
	disown # no "Killed" from bash: the SIGKILL is ours
done
for ((n = 0; n < 50; n++)); do
	[[ $(sql "SELECT count(*) FROM jobctl_schedulers") == 3 ]] && break
	sleep 0.2
done
for i in 1 2 3; do
	owner[i]=$(sql "SELECT id FROM jobctl_schedulers WHERE pid = ${pid[i]}")
	[[ -n ${owner[i]} ]] || { echo "scheduler ${name[i]} (pid ${pid[i]}) did not join:" >&2; cat "$tmp/${name[i]}.log" >&2; exit 1; }
done
echo "schedulers: A=${owner[1]} (to be SIGKILLed), B=${owner[2]} (to be SIGSTOPped), C=${owner[3]}; fire times from $(iso "$t0")"
# named: the SQL expression of a reason with the schedulers' names for
# their ids, and digits as N (for grouping).
named="convert_from(doc, 'UTF8')::jsonb->>'reason'"
for i in 1 2 3; do
	named="replace($named, '${owner[i]}', '${name[i]}')"
done
named="regexp_replace(regexp_replace($named, '[0-9]{4}-[0-9-]+T[0-9:.]+(Z|[+-][0-9:]+)', 'TIME', 'g'), '[0-9]+', 'N', 'g')"

sleep_until $((t0 + kill_at))
kill -KILL "${pid[1]}"
k=$(now_ns)
kill -STOP "${pid[2]}"
s=$(now_ns)
inflight1=$(sql "SELECT count(*) FROM jobctl_runs WHERE owner = '${owner[1]}' AND outcome = 'running'")
inflight2=$(sql "SELECT count(*) FROM jobctl_runs WHERE owner = '${owner[2]}' AND outcome = 'running'")
poll "${owner[1]}" "$k" "$tmp/takeover1" &
children+=($!)
poll "${owner[2]}" "$s" "$tmp/takeover2" &
children+=($!)
echo "at +${kill_at} s: SIGKILL A ($inflight1 runs in flight), SIGSTOP B ($inflight2 runs in flight)"

sleep_until $((t0 + kill_at + stop_for))
kill -CONT "${pid[2]}"
echo "at +$((kill_at + stop_for)) s: SIGCONT B"

end=$((t0 + secs))
((end > t0 + kill_at + stop_for + 1)) || end=$((t0 + kill_at + stop_for + 1))
sleep_until $((end + grace))
stop "${pid[2]}" "${pid[3]}"
wait # the pollers
echo "at +$((end + grace - t0)) s: SIGTERM B and C, and they exited"

window="fire_time >= '$(iso "$t0")' AND fire_time < '$(iso $((t0 + secs)))'"
expected=$((njobs * secs))
echo
echo "== fire times: $expected ($njobs jobs x $secs s)"
sql "WITH f AS (
	SELECT job_id, fire_time,
		count(*) FILTER (WHERE outcome IN ('success', 'failed', 'timeout')) AS done,
		bool_or(outcome IN ('success', 'failed', 'timeout') AND attempt > 1) AS retried
	FROM jobctl_runs WHERE $window GROUP BY job_id, fire_time)
SELECT count(*) FILTER (WHERE done = 1 AND NOT retried), count(*) FILTER (WHERE done = 1 AND retried),
	count(*) FILTER (WHERE done > 1), count(*) FILTER (WHERE done = 0), $expected - count(*) FROM f" |
	while read -r once retried many never none; do
		echo "run to the end exactly once:           $once"
		echo "  ... as attempt 2, after a takeover:  $retried"
		echo "run to the end more than once:         $many"
		echo "recorded, never run to the end:        $never"
		echo "no run record at all:                  $none (fire times coalesced into a later run: $(sql "SELECT coalesce(sum((convert_from(doc, 'UTF8')::jsonb->>'coalesced')::int), 0) FROM jobctl_runs WHERE $window"))"
	done
echo "run twice (two first attempts of one fire time, running or finished; must be 0): $(sql "SELECT count(*) FROM (
	SELECT 1 FROM jobctl_runs WHERE $window AND attempt = 1 AND outcome IN ('success', 'failed', 'timeout', 'running')
	GROUP BY job_id, fire_time HAVING count(*) > 1) d")"
echo "by the jobs' side effects: $(wc -l <"$tmp/effects") commands started; the same (job, fire time, attempt) twice (must be 0): $(awk '{print $1, $2, $3}' "$tmp/effects" | sort | uniq -d | wc -l)"
echo "  fire times whose command started for 2 attempts (recover re-ran it; the first went on running): $(awk '{print $1, $2, $3}' "$tmp/effects" | sort -u | awk '{print $1, $2}' | uniq -d | wc -l)"
echo "runs not run to the end, by outcome and reason (times as TIME, digits as N):"
sql "SELECT count(*), outcome, coalesce($named, '')
	FROM jobctl_runs WHERE $window AND outcome NOT IN ('success', 'failed', 'timeout')
	GROUP BY 2, 3 ORDER BY 1 DESC" | sed 's/^/  /'

echo
echo "== runs per scheduler (all attempts and outcomes)"
for i in 1 2 3; do
	printf '%s %-16s %-20s %6s\n' "${name[i]}" "${owner[i]}" "${role[i]}" "$(sql "SELECT count(*) FROM jobctl_runs WHERE owner = '${owner[i]}' AND $window")"
done

echo
echo "== takeover (polled every 200 ms)"
echo "lease 10 s, renewed every 2 s; - is never (within 60 s)"
echo "A, from its SIGKILL: $(cat "$tmp/takeover1")"
echo "B, from its SIGSTOP: $(cat "$tmp/takeover2")"
echo "warnings and errors in the schedulers' logs (count, scheduler, message):"
for i in 1 2 3; do
	grep -Eo 'level=(WARN|ERROR) msg="[^"]*"' "$tmp/${name[i]}.log" | sort | uniq -c | sort -rn | sed "s/^ *\([0-9]*\) /  \1 ${name[i]} /" || true
done
for i in 1 2 3; do
	grep -E 'level=ERROR.*err=' "$tmp/${name[i]}.log" | sed -E 's/^time=[^ ]+ //; s/^/  '"${name[i]}"': /' | head -n 3 || true
done

echo
echo "== start lateness (started - fire time, from the run records)"
echo "fleet of 3 on PostgreSQL, first attempts:         $(lateness '.attempt == 1')"
echo "fleet of 3 on PostgreSQL, attempts after takeover: $(lateness '.attempt > 1')"

echo
echo "== jobctl add, the whole process ($njobs jobs in the database)"
echo "PostgreSQL: $(time_adds "$JOBCTL_DB") (target < 10 ms)"

if ((bolt_secs > 0)); then
	export JOBCTL_DB=$tmp/bolt.db
	echo "bbolt:      $(time_adds "$JOBCTL_DB")"
	echo
	echo "== for comparison: one jobctl run on bbolt, the same $njobs jobs for $bolt_secs s"
	: >"$tmp/effects"
	t0=$(($(date +%s) + 3))
	jobfile "$t0" "$bolt_secs" >"$tmp/jobs.toml"
	"$tmp/jobctl" apply -f "$tmp/jobs.toml" >/dev/null 2>>"$tmp/cmd.log"
	"$tmp/jobctl" run >/dev/null 2>"$tmp/bolt.log" &
	children+=($!)
	disown
	sleep_until $((t0 + bolt_secs + grace))
	stop "${children[-1]}"
	echo "bbolt, one scheduler: $(lateness true)"
	echo "  outcomes: $("$tmp/jobctl" history -n 0 -o json | jq -r 'group_by(.outcome) | map("\(length) \(.[0].outcome)") | join(", ")')"
fi
