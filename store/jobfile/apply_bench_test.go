package jobfile

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobctl/jobctl/store"
	"github.com/jobctl/jobctl/store/bolt"
)

// BenchmarkApply is jobctl apply of a jobfile of 100,000 cron jobs into a
// new bbolt file: parsing, checking and storing them in one transaction
// (issue 10's target: under 3 s).
//
//	go test ./store/jobfile -run '^$' -bench Apply -benchtime 1x
func BenchmarkApply(b *testing.B) {
	const n = 100000
	var src strings.Builder
	for i := range n {
		fmt.Fprintf(&src, "[[job]]\nid = \"job-%06d\"\ncommand = \"echo %d\"\ncron = \"%d %d * * *\"\n\n", i, i, i%60, i%24)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for b.Loop() {
		f, err := Parse("jobs.toml", []byte(src.String()))
		if err != nil {
			b.Fatal(err)
		}
		s, err := bolt.Open(filepath.Join(b.TempDir(), "jobs.db"), bolt.OpenOptions{Create: true})
		if err != nil {
			b.Fatal(err)
		}
		var r Report
		err = s.Update(context.Background(), func(tx store.Tx) error {
			r, err = Apply(tx, f, now, ApplyOptions{})
			return err
		})
		if err != nil || len(r.Added) != n {
			b.Fatal(len(r.Added), err)
		}
		s.Close()
	}
}
