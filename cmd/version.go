package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

type versionOptions struct {
	io        Streams
	buildInfo func() (*debug.BuildInfo, bool) // debug.ReadBuildInfo, but in tests
}

func newVersionCmd(f *Factory) *cobra.Command {
	o := &versionOptions{io: f.IO, buildInfo: debug.ReadBuildInfo}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of jobctl and the revision it was built from",
		Long: `Print the module version of jobctl and, when the binary was built from a git
checkout, the revision, its commit time and whether the tree had uncommitted
changes (Go records these unless built with -buildvcs=false). A binary
installed with "go install github.com/jobctl/jobctl@VERSION" reports VERSION.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runVersion(c.Context(), o) },
	}
}

func runVersion(_ context.Context, o *versionOptions) error {
	info, ok := o.buildInfo()
	if !ok {
		return errors.New("this binary carries no build information")
	}
	return writeVersion(o.io.Out, info)
}

// shortVersion is the binary's version and revision, in a word, from
// buildInfo's results: what a fleet's members show of one another.
func shortVersion(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "(unknown)"
	}
	v, vcs := buildVersion(info)
	if rev := vcs["vcs.revision"]; len(rev) >= 12 {
		v += " " + rev[:12]
	}
	return v
}

// buildVersion is what info says of the binary: its module version,
// "(devel)" when it has none, and its vcs.* settings by key.
func buildVersion(info *debug.BuildInfo) (version string, vcs map[string]string) {
	version = info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	vcs = make(map[string]string)
	for _, s := range info.Settings {
		if strings.HasPrefix(s.Key, "vcs.") {
			vcs[s.Key] = s.Value
		}
	}
	return version, vcs
}

// writeVersion prints info one "key value" line each, as go version -m
// does, leaving out what the build did not record.
func writeVersion(w io.Writer, info *debug.BuildInfo) error {
	version, vcs := buildVersion(info)
	lines := [][2]string{{"jobctl", version}}
	for _, key := range []string{"vcs.revision", "vcs.time", "vcs.modified"} {
		if v, ok := vcs[key]; ok {
			lines = append(lines, [2]string{strings.TrimPrefix(key, "vcs."), v})
		}
	}
	lines = append(lines, [2]string{"go", info.GoVersion + " " + runtime.GOOS + "/" + runtime.GOARCH})
	for _, l := range lines {
		if _, err := fmt.Fprintf(w, "%-9s %s\n", l[0], l[1]); err != nil {
			return err
		}
	}
	return nil
}
