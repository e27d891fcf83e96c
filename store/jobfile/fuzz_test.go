package jobfile

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/jobctl/jobctl/store"
)

// FuzzParse: whatever a jobfile holds, Parse returns a File or errors placed
// within the file, never a panic; a File it accepts can be applied to a
// store, and exported, parsed and applied again gives the same jobs.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../../testdata/jobfile.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, s := range []string{
		"",
		"[[job]]\nid = \"a\"\ncommand = \"true\"\nevery = \"90s\"\n",
		"[[job]]\nid = \"b\"\ncommand = \"x\"\ncron = { day_of_week = \"mon-fri\", hour = \"*/2\" }\ntimezone = \"Asia/Kolkata\"\n",
		"[[job]]\nid = \"c\"\ncommand = \"x\"\nany = [{ every = \"1h\" }, { at = 2026-07-01T08:00:00 }]\npaused = true\n",
		"[[job]]\nid = \"d\"\ncommand = \"x\"\nall = [{ cron = \"0 9 * * *\" }, { cron = { day = \"last\" } }]\nend = \"2027-01-01\"\n",
		"[job_defaults]\nmisfire_grace_time = \"none\"\ncoalesce = false\n[executors.slow]\nmax_workers = 2\n",
		"[[listener]]\nevents = [\"job_error\"]\ncommand = \"echo\"\n",
		"[[job]]\nid = 1\ncommand = []\nevery = -5\nenv = { A = 1, \"1B\" = \"x\" }\n",
		"[[job]]\nid = \"a\xff\"\n",
		"[scheduler]\ntimezone = \"Nowhere/City\"\nhistory_limit = -1\n",
		"[stores.r]\nurl = \"r.db\"\n[[job]]\nid = \"a\"\ncommand = \"x\"\nevery = \"1h\"\nstore = \"r\"\n[[job]]\nid = \"b\"\ncommand = \"x\"\nevery = \"1h\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("f.toml", src)
		if err != nil {
			lines := bytes.Count(src, []byte("\n")) + 1
			for _, e := range err.(Errors) {
				if e.Pos.Line < 0 || e.Pos.Line > lines || e.Msg == "" {
					t.Fatalf("error placed outside the file's %d lines, or empty: %v", lines, e)
				}
			}
			return
		}
		first, settings := applied(t, file)
		jobs := make([]*store.Job, 0, len(first))
		for _, j := range first {
			jobs = append(jobs, j)
		}
		out, err := Export(settings, jobs)
		if err != nil {
			t.Fatalf("exporting what was applied: %v", err)
		}
		again, err := Parse("exported.toml", out)
		if err != nil {
			t.Fatalf("parsing the export: %v\n%s", err, out)
		}
		second, settingsAgain := applied(t, again)
		if !reflect.DeepEqual(first, second) {
			t.Fatalf("the jobs exported and applied again differ:\n%v\n%v\nexport:\n%s", first, second, out)
		}
		// An executor only a job names is declared by the export.
		for _, e := range settings.Executors {
			if !slices.Contains(settingsAgain.Executors, e) {
				t.Fatalf("executor %+v lost by the round trip:\n%s", e, out)
			}
		}
		if !reflect.DeepEqual(settings.Listeners, settingsAgain.Listeners) || settings.HistoryLimit != settingsAgain.HistoryLimit {
			t.Fatalf("the settings exported and applied again differ:\n%+v\n%+v\nexport:\n%s", settings, settingsAgain, out)
		}
	})
}

// applied applies f to an empty store and returns its jobs by id, and its
// settings.
func applied(t *testing.T, f *File) (map[string]*store.Job, store.Settings) {
	s := newMemory(t)
	defer s.Close()
	jobs := map[string]*store.Job{}
	var settings store.Settings
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if _, err := Apply(tx, f, now, ApplyOptions{}); err != nil {
			return err
		}
		var err error
		if settings, err = tx.Settings(); err != nil {
			return err
		}
		return tx.Jobs(func(j *store.Job) error {
			jobs[j.ID] = j
			return nil
		})
	})
	if err != nil {
		t.Fatalf("applying a file Parse accepted: %v", err)
	}
	return jobs, settings
}
