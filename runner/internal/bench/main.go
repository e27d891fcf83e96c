// Command bench measures jobctl run as issue 4 asks, each figure beside a
// floor: a minimal program that only starts the same commands at the same
// instants. Lateness is measured by the jobs themselves: each appends its
// fire time and `date +%s%N` to a file, so the figures include starting the
// shell. Run it through testdata/bench/run.sh, which builds jobctl:
//
//	(a) start lateness p50/p99 of 100 jobs firing every second;
//	(b) the time until 400 jobs due at the same second have all started,
//	    through 32 workers;
//	(c) runs per second of `true` through 32 workers, over a backlog;
//	(d) CPU time of an idle scheduler with 10,000 jobs due in an hour,
//	    over 30 s.
//
// With supercronic on $PATH, (a) is also measured for it.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	jobctl  = flag.String("jobctl", "jobctl", "the jobctl binary")
	dir     = flag.String("dir", "", "a scratch directory (default: a new one)")
	only    = flag.String("only", "abcd", "which figures: any of a, b, c, d")
	seconds = flag.Int("seconds", 10, "(a) how many seconds of fire times to measure")
	backlog = flag.Int("backlog", 3000, "(c) how many runs of true")
	idle    = flag.Duration("idle", 30*time.Second, "(d) how long to measure the idle scheduler")
)

func main() {
	flag.Parse()
	if *dir == "" {
		d, err := os.MkdirTemp("", "jobctl-bench-")
		check(err)
		defer os.RemoveAll(d)
		*dir = d
	}
	fmt.Printf("jobctl run benchmark: %s, %d CPUs, database in %s\n", runtimeInfo(), runtime.NumCPU(), *dir)
	if strings.Contains(*only, "a") {
		lateness()
	}
	if strings.Contains(*only, "b") {
		burst()
	}
	if strings.Contains(*only, "c") {
		throughput()
	}
	if strings.Contains(*only, "d") {
		idleCPU()
	}
}

// record is the command of a measuring job: its fire time and when its
// shell got to run date.
func record(out string) string {
	return `echo "$JOBCTL_FIRE_TIME $(date +%s%N)" >>` + out
}

// (a) 100 jobs every second, for *seconds seconds, interleaved with the
// floor: jobctl's jobs fire at even seconds and the floor's at odd ones, so
// that both meet the same machine over the same minute (a noisy machine
// moves both alike) and neither runs during the other's second.
func lateness() {
	const jobs = 100
	out, floorOut := filepath.Join(*dir, "a.out"), filepath.Join(*dir, "a-floor.out")
	var b strings.Builder
	b.WriteString("[executors.default]\nmax_workers = 100\n\n")
	for i := range jobs {
		fmt.Fprintf(&b, "[[job]]\nid = \"a%03d\"\ncommand = '%s'\ncron = \"*/2 * * * * *\"\n\n", i, record(out))
	}
	// Two seconds to start, on an even second, then the measured seconds.
	start := time.Now().Truncate(2 * time.Second).Add(4 * time.Second)
	end := start.Add(time.Duration(2**seconds) * time.Second)
	s := startJobctl("a", b.String())
	time.Sleep(time.Until(start))
	cpu0 := cpuTime(s.cmd.Process.Pid)
	for at := start.Add(time.Second); at.Before(end); at = at.Add(2 * time.Second) {
		time.Sleep(time.Until(at))
		var wg sync.WaitGroup
		for range jobs {
			wg.Go(func() { sh(record(floorOut), at) })
		}
		// Not waited for before the next second: a job never takes one.
		go wg.Wait()
	}
	time.Sleep(time.Until(end))
	cpu := cpuTime(s.cmd.Process.Pid) - cpu0
	time.Sleep(time.Second)
	s.stop()
	got, floor := lateStats(out, start, end), lateStats(floorOut, start, end)
	fmt.Printf("(a) lateness, 100 jobs every second, %d s each, interleaved: jobctl p50 %s p99 %s max %s (%d runs, %s of CPU); floor p50 %s p99 %s max %s (%d runs)\n",
		*seconds, got.p(50), got.p(99), got.p(100), len(got), cpu, floor.p(50), floor.p(99), floor.p(100), len(floor))
	if path, err := exec.LookPath("supercronic"); err == nil {
		fmt.Printf("    supercronic: %s\n", supercronic(path, jobs))
	}
}

// supercronic runs the same jobs under supercronic (crontab with seconds)
// and returns its lateness. Its fire times are whole seconds, so the
// lateness is the time past the second.
func supercronic(path string, jobs int) string {
	out := filepath.Join(*dir, "sc.out")
	os.Remove(out)
	var b strings.Builder
	for range jobs {
		fmt.Fprintf(&b, "* * * * * * * date +%%s%%N >>%s\n", out)
	}
	tab := filepath.Join(*dir, "crontab")
	check(os.WriteFile(tab, []byte(b.String()), 0o600))
	cmd := exec.Command(path, "-quiet", tab)
	check(cmd.Start())
	start := time.Now().Truncate(time.Second).Add(2 * time.Second)
	end := start.Add(time.Duration(*seconds) * time.Second)
	time.Sleep(time.Until(end.Add(time.Second)))
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	var l durations
	for _, line := range lines(out) {
		ns, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
		if err != nil {
			continue
		}
		t := time.Unix(0, ns)
		if fire := t.Truncate(time.Second); !fire.Before(start) && fire.Before(end) {
			l = append(l, t.Sub(fire))
		}
	}
	slices.Sort(l)
	return fmt.Sprintf("p50 %s p99 %s max %s (%d runs)", l.p(50), l.p(99), l.p(100), len(l))
}

// (b) 400 jobs at one second through 32 workers: until the last started.
func burst() {
	const jobs, workers = 400, 32
	out := filepath.Join(*dir, "b.out")
	at := time.Now().Truncate(time.Second).Add(4 * time.Second)
	var b strings.Builder
	fmt.Fprintf(&b, "[executors.default]\nmax_workers = %d\n\n", workers)
	for i := range jobs {
		fmt.Fprintf(&b, "[[job]]\nid = \"b%03d\"\ncommand = '%s'\nat = %s\n\n", i, record(out), at.UTC().Format(time.RFC3339))
	}
	s := startJobctl("b", b.String())
	waitLines(out, jobs)
	s.stop()
	got := lateStats(out, at, at.Add(time.Second))

	os.Remove(out)
	at = time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(at))
	pool(workers, jobs, func() { sh(record(out), at) })
	floor := lateStats(out, at, at.Add(time.Second))
	fmt.Printf("(b) 400 jobs due at one second, 32 workers: all started after jobctl %s (p50 %s); floor %s (p50 %s)\n",
		got.p(100), got.p(50), floor.p(100), floor.p(50))
}

// (c) a backlog of runs of true through 32 workers: runs per second from
// the fire time to the last run's end, as the run records say.
func throughput() {
	const workers = 32
	n := *backlog
	at := time.Now().Truncate(time.Second).Add(4 * time.Second)
	var b strings.Builder
	fmt.Fprintf(&b, "[executors.default]\nmax_workers = %d\n\n", workers)
	for i := range n {
		fmt.Fprintf(&b, "[[job]]\nid = \"c%05d\"\ncommand = \"true\"\nmisfire_grace_time = \"none\"\nat = %s\n\n", i, at.UTC().Format(time.RFC3339))
	}
	s := startJobctl("c", b.String())
	var last time.Time
	for {
		time.Sleep(200 * time.Millisecond)
		runs := history(s.db)
		done := 0
		for _, r := range runs {
			if r.Outcome == "success" {
				done++
				if e, err := time.Parse(time.RFC3339Nano, r.EndedAt); err == nil && e.After(last) {
					last = e
				}
			}
		}
		if done == n {
			break
		}
		if len(runs) == n && done < n && allEnded(runs) {
			fmt.Printf("(c) only %d of %d runs succeeded\n", done, n)
			break
		}
	}
	s.stop()
	got := float64(n) / last.Sub(at).Seconds()

	start := time.Now()
	pool(workers, n, func() { sh("true", start) })
	floor := float64(n) / time.Since(start).Seconds()
	fmt.Printf("(c) %d runs of true, 32 workers: jobctl %.0f runs/s; floor %.0f runs/s\n", n, got, floor)
}

// (d) CPU time of jobctl run with 10,000 jobs due in an hour, once it has
// started, over *idle.
func idleCPU() {
	const jobs = 10000
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	var b strings.Builder
	for i := range jobs {
		fmt.Fprintf(&b, "[[job]]\nid = \"d%05d\"\ncommand = \"true\"\nat = %s\n\n", i, at.UTC().Format(time.RFC3339))
	}
	s := startJobctl("d", b.String())
	for !strings.Contains(s.stderr(), "scheduler started") {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	before := cpuTime(s.cmd.Process.Pid)
	time.Sleep(*idle)
	used := cpuTime(s.cmd.Process.Pid) - before
	s.stop()
	cpu := used.String()
	if used == 0 {
		cpu = "less than 10ms" // the clock tick of /proc/PID/stat
	}
	fmt.Printf("(d) idle with %d jobs due in an hour: %s of CPU in %s (floor: none, a sleeping process uses 0)\n", jobs, cpu, *idle)
}

// scheduler is a jobctl run process on a database of its own.
type scheduler struct {
	cmd *exec.Cmd
	db  string
	log string
}

func startJobctl(name, jobfile string) *scheduler {
	file := filepath.Join(*dir, name+".toml")
	check(os.WriteFile(file, []byte(jobfile), 0o600))
	s := &scheduler{db: filepath.Join(*dir, name+".db"), log: filepath.Join(*dir, name+".log")}
	logf, err := os.Create(s.log)
	check(err)
	defer logf.Close()
	s.cmd = exec.Command(*jobctl, "--db", s.db, "run", "-f", file)
	s.cmd.Stderr = logf
	check(s.cmd.Start())
	return s
}

func (s *scheduler) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		fmt.Fprintf(os.Stderr, "jobctl run: %v\n%s", err, s.stderr())
		os.Exit(1)
	}
}

func (s *scheduler) stderr() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

type run struct {
	Outcome string `json:"outcome"`
	EndedAt string `json:"ended_at"`
}

func history(db string) []run {
	out, err := exec.Command(*jobctl, "--db", db, "history", "-n", "0", "-o", "json").Output()
	check(err)
	var runs []run
	check(json.Unmarshal(out, &runs))
	return runs
}

func allEnded(runs []run) bool {
	for _, r := range runs {
		if r.Outcome == "running" {
			return false
		}
	}
	return true
}

// sh runs command as jobctl would, with the fire time in its environment.
func sh(command string, fire time.Time) {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Env = append(os.Environ(), "JOBCTL_FIRE_TIME="+fire.Format(time.RFC3339))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Run()
}

// pool calls f n times through workers goroutines.
func pool(workers, n int, f func()) {
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range work {
				f()
			}
		})
	}
	wg.Wait()
}

type durations []time.Duration

// p is the q-th percentile (q = 100: the maximum).
func (d durations) p(q int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := min(len(d)-1, (len(d)*q+99)/100-1)
	return d[max(i, 0)].Round(100 * time.Microsecond)
}

// lateStats reads the lines of a record file whose fire time is in [from,
// to) and returns their lateness, sorted.
func lateStats(file string, from, to time.Time) durations {
	var l durations
	for _, line := range lines(file) {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		fire, err1 := time.Parse(time.RFC3339, f[0])
		ns, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || fire.Before(from) || !fire.Before(to) {
			continue
		}
		l = append(l, time.Unix(0, ns).Sub(fire))
	}
	slices.Sort(l)
	return l
}

func lines(file string) []string {
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func waitLines(file string, n int) {
	for deadline := time.Now().Add(time.Minute); len(lines(file)) < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "gave up waiting for %d runs in %s\n", n, file)
			os.Exit(1)
		}
	}
}

// cpuTime is the user and system time of process pid (utime + stime of
// /proc/PID/stat, in clock ticks of 10 ms).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func runtimeInfo() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown kernel"
	}
	return "Linux " + strings.TrimSpace(string(b))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
