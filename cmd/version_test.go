package cmd

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestWriteVersion(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"go install @version", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			"jobctl    v1.2.0\ngo        go1.26.8 " + platform + "\n"},
		{"git checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261124150415-0274f99c1234+dirty"},
			Settings: []debug.BuildSetting{
				{Key: "vcs.modified", Value: "true"}, {Key: "GOOS", Value: "linux"},
				{Key: "vcs.revision", Value: "0274f99c1234"}, {Key: "vcs.time", Value: "2026-11-24T15:04:15Z"}}},
			"jobctl    v0.0.0-20261124150415-0274f99c1234+dirty\nrevision  0274f99c1234\ntime      2026-11-24T15:04:15Z\nmodified  true\ngo        go1.26.8 " + platform + "\n"},
		{"no version", debug.BuildInfo{GoVersion: "go1.26.8"},
			"jobctl    (devel)\ngo        go1.26.8 " + platform + "\n"},
	} {
		var b strings.Builder
		if err := writeVersion(&b, &tc.info); err != nil || b.String() != tc.want {
			t.Errorf("%s: got %q (%v), want %q", tc.name, b.String(), err, tc.want)
		}
	}
}

func TestShortVersion(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0274f99c1234abcdef"}}
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build information", nil, false, "(unknown)"},
		{"no version", &debug.BuildInfo{}, true, "(devel)"},
		{"go install @version", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, true, "v1.2.0"},
		{"git checkout", &debug.BuildInfo{Settings: rev}, true, "(devel) 0274f99c1234"},
		{"short revision", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0274f99"}}}, true, "v1.2.0"},
	} {
		if got := shortVersion(tc.info, tc.ok); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
