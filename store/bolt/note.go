//go:build unix

package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// While a scheduler holds the lock, its lock file also holds a note of its
// store's failures, for jobctl scheduler status: where the log is not read,
// "running" would otherwise hide a scheduler that has recorded nothing for
// an hour. The note is written in place into the open lock file, into
// blocks it has had since Lock wrote the whole record: a full disk, the
// likeliest cause of the failures, takes it, where a new file would need
// blocks it does not have. The reader opens the file read-only and writes
// nothing, so a read-only file system does not stop it. A note means
// something only while the lock is held: a scheduler that died leaves its
// last one, which the next Lock overwrites.
//
// The lock file is a record of recordSize bytes: the process id, padded
// with spaces to pidSize bytes (lockPID reads no more), then the note, one
// line, padded with spaces: empty while the store works, else
//
//	failing CRC SINCE AT MESSAGE
//
// SINCE and AT are RFC 3339 times, MESSAGE is a Go-quoted string, and CRC
// is the CRC-32 (IEEE), in hexadecimal, of what follows it: a reader that
// reads as the note is rewritten finds it torn, and reads again.
const (
	pidSize    = 32
	recordSize = 1024
)

// A Note is what a scheduler says of its store's failures in its lock file.
type Note struct {
	Since time.Time // when the store began to fail
	At    time.Time // when it last failed
	Err   string    // how it last failed; "" while it works
}

// writeRecord writes the whole record, this process's id and n, at the
// start of the lock file f.
func writeRecord(f *os.File, n Note) error {
	rec := bytes.Repeat([]byte{' '}, recordSize)
	pid := strconv.Itoa(os.Getpid())
	copy(rec, pid)
	rec[pidSize-1] = '\n'
	copy(rec[pidSize:], formatNote(n))
	rec[recordSize-1] = '\n'
	_, err := f.WriteAt(rec, 0)
	return err
}

// formatNote returns n's line, without its newline, cutting the message to
// fit the record.
func formatNote(n Note) string {
	if n.Err == "" {
		return ""
	}
	times := n.Since.UTC().Format(time.RFC3339Nano) + " " + n.At.UTC().Format(time.RFC3339Nano) + " "
	room := recordSize - pidSize - 1 - len("failing 01234567 ") - len(times)
	msg := n.Err
	for len(strconv.Quote(msg)) > room {
		msg = strings.TrimSuffix(msg, "…")
		msg = msg[:min(len(msg), room)]
		_, size := utf8.DecodeLastRuneInString(msg)
		msg = msg[:len(msg)-size] + "…"
	}
	body := times + strconv.Quote(msg)
	return fmt.Sprintf("failing %08x %s", crc32.ChecksumIEEE([]byte(body)), body)
}

// ReadNote returns the note in the lock file of the database at path: the
// zero Note if it has none, or no lock file. It is what the scheduler
// holding the lock says (see LockHolder): a lock not held leaves a stale
// one. It opens the file read-only, and creates and writes nothing.
func ReadNote(path string) (Note, error) {
	name, err := lockName(path)
	if err != nil {
		return Note{}, err
	}
	f, err := openLockFile(name, os.O_RDONLY|syscall.O_NONBLOCK)
	if errors.Is(err, fs.ErrNotExist) {
		return Note{}, nil
	}
	if err != nil {
		return Note{}, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return Note{}, err
	} else if !fi.Mode().IsRegular() {
		return Note{}, fmt.Errorf("%s: is not a regular file, not jobctl's lock file", name)
	}
	buf := make([]byte, recordSize)
	for tries := 0; ; tries++ {
		k, err := f.ReadAt(buf, 0)
		if err != nil && err != io.EOF {
			return Note{}, err
		}
		line := ""
		if k > pidSize {
			line, _, _ = strings.Cut(string(buf[pidSize:k]), "\n")
		}
		n, err := parseNote(strings.TrimSpace(line))
		if err == nil || tries == 2 {
			if err != nil {
				err = fmt.Errorf("%s: %w", name, err)
			}
			return n, err
		}
		time.Sleep(time.Millisecond) // torn: the scheduler is writing it
	}
}

// parseNote reads a note's line, formatNote's.
func parseNote(line string) (Note, error) {
	if line == "" {
		return Note{}, nil
	}
	bad := fmt.Errorf("the scheduler's note %q does not read", line)
	rest, ok := strings.CutPrefix(line, "failing ")
	sum, body, ok2 := strings.Cut(rest, " ")
	if !ok || !ok2 {
		return Note{}, bad
	}
	if want, err := strconv.ParseUint(sum, 16, 32); err != nil || uint32(want) != crc32.ChecksumIEEE([]byte(body)) {
		return Note{}, bad
	}
	since, rest, _ := strings.Cut(body, " ")
	at, quoted, _ := strings.Cut(rest, " ")
	var n Note
	var err1, err2, err3 error
	n.Since, err1 = time.Parse(time.RFC3339Nano, since)
	n.At, err2 = time.Parse(time.RFC3339Nano, at)
	n.Err, err3 = strconv.Unquote(quoted)
	if err := errors.Join(err1, err2, err3); err != nil || n.Err == "" {
		return Note{}, bad
	}
	return n, nil
}
