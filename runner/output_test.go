package runner

import (
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	for _, tt := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"empty", nil, ""},
		{"short", []string{"ab\n", "cd\n"}, "ab\ncd\n"},
		{"exactly full", []string{"abcd\n", "efg\n"}, "abcd\nefg\n"},
		{"cut: from the next line", []string{"abcd\n", "efg\n", "hi\n"}, "efg\nhi\n"},
		{"one big write", []string{"0123\n456\n789\n"}, "456\n789\n"},
		{"no newline", []string{"0123456789", "abcdefghij"}, "defghij"},
		{"cut within a character", []string{"xxxxxxxx", "é123456"}, "123456"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			size := 9
			if strings.HasPrefix(tt.name, "no newline") || strings.HasPrefix(tt.name, "cut within") {
				size = 7
			}
			tl := newTail(size)
			for _, w := range tt.writes {
				tl.Write([]byte(w))
			}
			if got := tl.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(tl.buf) > size {
				t.Errorf("buffer of %d bytes, more than %d", len(tl.buf), size)
			}
		})
	}
}

func TestCopyLines(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	var got []string
	err := copyLines(strings.NewReader("one\n\ntwo\n"+long+"\nlast"), func(b []byte) { got = append(got, string(b)) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"one", "", "two", long[:maxLine], long[maxLine:], "last"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
}
