package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

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

// shortVersion is this binary's version and revision, in a word: what a
// fleet's members show of one another.
func shortVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// writeVersion prints info one "key value" line each, as go version -m
// does, leaving out what the build did not record.
func writeVersion(w io.Writer, info *debug.BuildInfo) error {
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	lines := [][2]string{{"jobctl", version}}
	for _, key := range []string{"vcs.revision", "vcs.time", "vcs.modified"} {
		for _, s := range info.Settings {
			if s.Key == key {
				lines = append(lines, [2]string{key[len("vcs."):], s.Value})
			}
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
