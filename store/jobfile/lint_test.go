package jobfile

import (
	"strings"
	"testing"
	"time"
)

func TestLint(t *testing.T) {
	f := mustParse(t, `
[scheduler]
timezone = "Europe/Berlin"

[[job]]
id = "either"
command = "x"
cron = "0 9 13 * fri"

[[job]]
id = "steps"
command = "x"
cron = "*/35 */5 * * *"

[[job]]
id = "kw-steps"
command = "x"
cron = { minute = "*/7", hour = "*/6" }

[[job]]
id = "gap"
command = "x"
cron = "30 2 * * *"

[[job]]
id = "repeat"
command = "x"
timezone = "America/New_York"
cron = { hour = 1, minute = 30 }

[[job]]
id = "hourly"
command = "x"
cron = "30 * * * *"

[[job]]
id = "ended"
command = "x"
every = "1h"
end = "2026-01-01"

[[job]]
id = "interval"
command = "x"
every = "1h"
start = "2026-03-29 02:30"

[[job]]
id = "at-gap"
command = "x"
any = [{ at = "2026-03-29 02:15" }, { every = "1d", timezone = "UTC" }]

[[job]]
id = "retries"
command = "x"
every = "5m"
retries = 3
retry_delay = "1m"

[[job]]
id = "retries-fit"
command = "x"
every = "1h"
retries = 3
retry_delay = "1m"
overlap = "allow_all"
max_instances = 3
`)
	var got []string
	for _, w := range Lint(f, now) {
		got = append(got, w.Error())
	}
	want := []string{
		`jobs.toml:8:1: job "either": crontab "0 9 13 * fri" restricts both day-of-month (13) and day-of-week (fri): cron fires on days matching EITHER; for both, use keyword fields (day = "13", day_of_week = ...)`,
		`jobs.toml:13:1: job "steps": minute field "*/35" fires at minute 0, 35 of each hour and starts again with the next hour: not every 35 minutes`,
		`jobs.toml:13:1: job "steps": hour field "*/5" fires at hour 0, 5, 10, 15, 20 of each day and starts again with the next day: not every 5 hours`,
		`jobs.toml:18:1: job "kw-steps": minute field "*/7" fires at minute 0, 7, 14, 21, 28, 35, 42, 49, 56 of each hour and starts again with the next hour: not every 7 minutes`,
		`jobs.toml:23:1: job "gap": fires at 02:30:00 local time, which the DST change on 2026-03-29 skips in Europe/Berlin (02:00-03:00 does not exist): it runs at 03:00 instead`,
		`jobs.toml:29:1: job "repeat": fires at 01:30:00 local time, which occurs twice on 2026-11-01 in America/New_York (01:00-02:00 is repeated when clocks go back): it runs once, at the first`,
		`jobs.toml:39:1: job "ended": the trigger has no fire times after now (its end 2026-01-01 is past): the job would be stored finished and never run`,
		`jobs.toml:51:1: job "at-gap": fires at 02:15:00 local time, which the DST change on 2026-03-29 skips in Europe/Berlin (02:00-03:00 does not exist): it runs at 03:00 instead`,
		`jobs.toml:56:1: job "retries": its 3 retries wait 7m in all after a failure, longer than the 5m between its fire times: the fire times that come meanwhile are skipped (overlap skip)`,
		`jobs.toml:63:1: job "retries-fit": max_instances = 3 has no effect: overlap allow_all starts every fire time`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLintQuiet(t *testing.T) {
	f, err := Load("../../testdata/jobfile.toml")
	if err != nil {
		t.Fatal(err)
	}
	// The example's only pitfall is the backup at 02:30 on the spring
	// change, which its comment explains.
	ws := Lint(f, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if len(ws) != 1 || !strings.Contains(ws[0].Error(), `job "backup": fires at 02:30:00`) {
		t.Errorf("warnings for the example: %v", ws)
	}
}
