package runner

import (
	"bufio"
	"errors"
	"io"
	"sync"
	"unicode/utf8"
)

const (
	// TailSize is how much of a run's output its record keeps: the end.
	TailSize = 64 << 10
	// maxLine is the longest line passed on whole; a longer one is split
	// into pieces of this size, so that a job printing without newlines
	// costs bounded memory.
	maxLine = 16 << 10
)

// tail keeps the last size bytes written to it. Its buffer grows with
// what is written, up to size: most runs print little.
type tail struct {
	size  int
	buf   []byte
	start int   // where the oldest byte is, once full
	total int64 // bytes written
}

func newTail(size int) *tail { return &tail{size: size} }

func (t *tail) full() bool { return len(t.buf) == t.size }

func (t *tail) Write(p []byte) (int, error) {
	written := len(p)
	t.total += int64(written)
	if len(p) >= t.size {
		if t.buf == nil || !t.full() {
			t.buf = make([]byte, t.size)
		}
		copy(t.buf, p[len(p)-t.size:])
		t.start = 0
		return written, nil
	}
	if !t.full() {
		k := min(len(p), t.size-len(t.buf))
		t.buf = append(t.buf, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		k := copy(t.buf[t.start:], p)
		t.start = (t.start + k) % t.size
		p = p[k:]
	}
	return written, nil
}

// String returns what is kept. When the start was cut off, it begins at
// the next whole line (or, within a line, the next whole UTF-8 character),
// so the record starts cleanly.
func (t *tail) String() string {
	if t.total <= int64(t.size) {
		return string(t.buf)
	}
	b := make([]byte, 0, len(t.buf))
	b = append(b, t.buf[t.start:]...)
	b = append(b, t.buf[:t.start]...)
	for i, c := range b[:min(len(b), maxLine)] {
		if c == '\n' && i+1 < len(b) {
			return string(b[i+1:])
		}
	}
	for len(b) > 0 && !utf8.RuneStart(b[0]) {
		b = b[1:]
	}
	return string(b)
}

// lineWriter writes whole lines to w, each with a prefix, serialising them
// so that the lines of concurrent jobs never mix within a line. A write
// that fails (a closed pipe: jobctl run | head) stops the writing, not the
// jobs: failed hears of it, once.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer // nil: discard
	failed func(error)
}

func (l *lineWriter) writeLine(prefix string, line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w == nil {
		return
	}
	buf := make([]byte, 0, len(prefix)+len(line)+1)
	buf = append(append(append(buf, prefix...), line...), '\n')
	if _, err := l.w.Write(buf); err != nil {
		l.w = nil
		l.failed(err)
	}
}

// readers are the buffers of copyLines, kept between runs: a run that
// prints one line should not cost maxLine of garbage.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, maxLine) }}

// copyLines reads r to its end, line by line (lines longer than maxLine are
// split), and passes each line, without its newline, to line. It returns
// the read error other than io.EOF: a pipe closed under it reads as
// os.ErrClosed.
func copyLines(r io.Reader, line func([]byte)) error {
	br := readers.Get().(*bufio.Reader)
	defer readers.Put(br)
	br.Reset(r)
	defer br.Reset(nil) // let go of r
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			if b[len(b)-1] == '\n' {
				b = b[:len(b)-1]
			}
			line(b)
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}
