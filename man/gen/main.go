// Command gen writes jobctl's man pages into man/: jobctl.1 and
// jobctl-COMMAND.1 for every command, generated from the cobra command tree
// by cobra's own generator, and jobctl.5, the jobfile format, from the
// template jobctl.5.tmpl. Run it from the repository root after changing a
// command, a flag or the jobfile format:
//
//	go run ./man/gen
//
// The pages are checked in; a test fails while they are stale.
package main

import (
	"bytes"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/jobctl/jobctl/cmd"
	"github.com/jobctl/jobctl/runner"
	"github.com/jobctl/jobctl/runner/ping"
	"github.com/jobctl/jobctl/schedule"
	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/jobfile"
)

// date is in the header of every page. It is fixed, not today, so the pages
// come out the same on every run and the freshness test can compare them
// byte for byte; move it forward when the pages change for a release.
var date = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

func main() {
	dir := flag.String("dir", "man", "directory to write the pages to")
	flag.Parse()
	if err := generate(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// generate replaces the pages in dir with freshly generated ones, removing
// the pages of commands that no longer exist.
func generate(dir string) error {
	old, err := pages(dir)
	if err != nil {
		return err
	}
	for _, name := range old {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	root := cmd.NewRoot(cmd.NewFactory(cmd.Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}))
	disableAutoGenTag(root)
	header := &doc.GenManHeader{Date: &date, Source: "jobctl", Manual: "jobctl manual"}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := jobfilePage.Execute(&b, jobfileData()); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "jobctl.5"), b.Bytes(), 0o644)
}

// pages lists the generated pages in dir.
func pages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "jobctl") && (strings.HasSuffix(n, ".1") || strings.HasSuffix(n, ".5")) {
			names = append(names, n)
		}
	}
	return names, nil
}

// disableAutoGenTag drops cobra's "Auto generated ... on DATE" history
// section, which would carry the date of the run.
func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}

//go:embed jobctl.5.tmpl
var jobfilePageText string

var jobfilePage = template.Must(template.New("jobctl.5").Funcs(template.FuncMap{"roff": roff}).Parse(jobfilePageText))

//go:embed example.toml
var example string

// jobfileData is what the jobctl.5 template shows: values taken from the
// code, so the page cannot contradict it.
func jobfileData() any {
	d := store.DefaultOptions()
	return map[string]any{
		"Date":         date.Format("Jan 2006"), // as cobra dates the other pages
		"Coalesce":     d.Coalesce,
		"Recover":      d.Recover,
		"MaxInstances": d.MaxInstances,
		"MaxRetries":   schedule.MaxRetries,
		"RetryDelay":   schedule.FormatDuration(schedule.DefaultRetryDelay),
		"RetryBackoff": schedule.DefaultRetryBackoff,
		"MaxBuffered":  store.MaxBuffered,
		"Grace":        schedule.FormatDuration(time.Duration(d.MisfireGrace)),
		"Executor":     d.Executor,
		"Store":        jobfile.DefaultStore,
		"HistoryLimit": store.DefaultHistoryLimit,
		"Events":       store.EventNames,
		"Sendmail":     store.DefaultSendmail,
		"MailTimeout":  schedule.FormatDuration(runner.MailTimeout),
		"MaxSubject":   runner.MaxSubject,
		"PingEvery":    schedule.FormatDuration(store.DefaultPingEvery),
		"PingTimeout":  schedule.FormatDuration(ping.Timeout),
		"PingMaxBody":  ping.MaxBody,
		"PingRetries":  len(ping.DefaultBackoff),
		"Example":      example,
	}
}

// roff escapes text for a man page: backslashes, minus signs (which roff
// would print as hyphens, breaking copied commands) and lines that would
// read as requests.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
