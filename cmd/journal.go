package cmd

import (
	"io"
	"os"
	"strconv"
	"strings"
)

// journalStream reports whether w is connected to the systemd journal, by
// systemd's own contract: for a service whose output goes to the journal,
// it sets JOURNAL_STREAM (journal, here) to the device and inode numbers of
// that stream, in decimal, as "DEV:INO". The variable alone is not enough:
// it is inherited by every child, including a `jobctl run 2>file` started
// from a service's shell, so the stream must be w's own.
func journalStream(w io.Writer, journal string) bool {
	dev, ino, ok := strings.Cut(journal, ":")
	if !ok {
		return false
	}
	wantDev, err1 := strconv.ParseUint(dev, 10, 64)
	wantIno, err2 := strconv.ParseUint(ino, 10, 64)
	f, isFile := w.(*os.File)
	if err1 != nil || err2 != nil || !isFile {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	gotDev, gotIno, ok := fileID(fi)
	return ok && gotDev == wantDev && gotIno == wantIno
}
