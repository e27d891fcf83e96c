package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jobctl/jobctl/store"
)

// openLog opens j's log file, if there is a log directory, for r's output.
func (s *Scheduler) openLog(j *store.Job, r *store.Run) *os.File {
	if s.cfg.LogDir == "" {
		return nil
	}
	name := filepath.Join(s.cfg.LogDir, j.ID+".log")
	f, err := openPrivate(name)
	if err != nil {
		s.log.Warn("cannot open the job's log file", "job", j.ID, "file", name, "err", err)
		return nil
	}
	fmt.Fprintf(f, "--- run %d, fire time %s\n", r.Seq, r.FireTime.Format(time.RFC3339))
	return f
}
