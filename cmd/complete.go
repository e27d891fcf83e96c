package cmd

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobctl/jobctl/store"
)

// Shell completion. Completions read the database without creating it and
// offer nothing when it cannot be read: a completion must never fail loudly.

// completeJobIDs completes job ids, with each job's name or trigger as the
// description, leaving out ids already on the command line, from the jobs
// stored in db. With one, only the first argument is completed.
func completeJobIDs(db *database, one bool) cobra.CompletionFunc {
	return func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if one && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		_ = viewJobs(c.Context(), db, func(j *store.Job) {
			if !strings.HasPrefix(j.ID, toComplete) || slices.Contains(args, j.ID) {
				return
			}
			desc := j.Name
			if desc == "" {
				desc = j.Trigger.String()
			}
			out = append(out, cobra.CompletionWithDesc(j.ID, desc))
		})
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeExecutors offers default and the executors the jobs stored in db
// use.
func completeExecutors(db *database) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		names := []string{store.DefaultExecutor}
		_ = viewJobs(c.Context(), db, func(j *store.Job) {
			if j.Broken == "" && !slices.Contains(names, j.Options.Executor) {
				names = append(names, j.Options.Executor)
			}
		})
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// viewJobs calls fn for every job stored in d.
func viewJobs(ctx context.Context, d *database, fn func(*store.Job)) error {
	return viewDB(ctx, d, func(tx store.Tx) error {
		return tx.Jobs(func(j *store.Job) error { fn(j); return nil })
	})
}

// completeZones completes IANA zone names from the system's zoneinfo
// directory, one level at a time (Europe/, then Europe/Berlin).
func completeZones(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	root := os.Getenv("ZONEINFO")
	if root == "" {
		root = "/usr/share/zoneinfo"
	}
	dir, _ := filepath.Split(toComplete)
	entries, err := os.ReadDir(filepath.Join(root, dir))
	if err != nil {
		return []string{"UTC", "Local"}, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		// Zone names start with a capital; the rest are the database's files.
		if name == "" || name[0] < 'A' || name[0] > 'Z' || !strings.HasPrefix(dir+name, toComplete) {
			continue
		}
		if e.IsDir() {
			name += "/"
		}
		out = append(out, dir+name)
	}
	directive := cobra.ShellCompDirectiveNoFileComp
	if len(out) == 1 && strings.HasSuffix(out[0], "/") {
		directive |= cobra.ShellCompDirectiveNoSpace
	}
	return out, directive
}
