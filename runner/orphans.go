package runner

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jobctl/jobctl/store"
)

// A scheduler killed outright (SIGKILL, a crash) leaves its runs recorded
// running, and the processes of those runs may live on: the shell gets
// SIGTERM when jobctl dies, but what it started does not. The next
// scheduler records such runs interrupted and looks for their processes by
// the environment every job is started with (runEnv: its job, its run and
// the scheduler that ran it). A run with processes still alive counts
// against its job's max instances until they are gone, so that a restart
// never runs more instances of a job than it allows.

// orphanPoll is how often a run's orphaned processes are looked at again.
const orphanPoll = time.Second

// runEnv is what a run's environment says of it, for orphans to be found
// by: its job, its run and its scheduler.
func runEnv(r *store.Run) []string {
	return []string{
		"JOBCTL_JOB_ID=" + r.JobID,
		"JOBCTL_RUN_ID=" + strconv.FormatUint(r.Seq, 10),
		"JOBCTL_SCHEDULER=" + r.Owner,
	}
}

// orphanReason is the reason recorded for an interrupted run whose
// processes are still alive (pids), or whose processes cannot be looked
// for (err).
func orphanReason(r *store.Run, pids []int, err error) string {
	reason := "its scheduler (" + r.Owner + ") stopped while it ran"
	switch {
	case err != nil:
		return reason + "; whether its processes still run cannot be known (" + err.Error() + ")"
	case len(pids) > 0:
		s := make([]string, len(pids))
		for i, p := range pids {
			s[i] = strconv.Itoa(p)
		}
		return reason + fmt.Sprintf("; %s still %s (pid %s): counted against max instances until %s",
			plural(len(pids), "its process", "its processes"), plural(len(pids), "runs", "run"),
			strings.Join(s, ", "), plural(len(pids), "it ends", "they end"))
	}
	return reason
}

// watchOrphans keeps the run's orphaned processes counted as an instance
// of its job (the caller counted them) until none of them is alive, or the
// scheduler stops.
func (s *Scheduler) watchOrphans(r *store.Run, pids []int) {
	defer s.free(r.JobID)
	want := runEnv(r)
	for {
		if pids = alive(pids, want); len(pids) == 0 {
			s.log.Info("the orphaned processes of an interrupted run have ended", "job", r.JobID, "run", r.Seq)
			return
		}
		t := s.clock.NewTimer(orphanPoll)
		select {
		case <-t.C():
		case <-s.stopping.Done():
			t.Stop()
			return
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
