package cmd

import (
	"encoding/json"
	"io"
	"os"
	"strings"
	"unicode"

	"github.com/spf13/pflag"
	"golang.org/x/text/width"
)

// Output formats of -o.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// addOutputFlag registers -o on a command that prints jobs or runs.
func addOutputFlag(fs *pflag.FlagSet, to *string) {
	fs.StringVarP(to, "output", "o", outputTable, "output format: table or json")
}

func checkOutput(o string) error {
	if o != outputTable && o != outputJSON {
		return usagef("-o: %q is not table or json", o)
	}
	return nil
}

// writeJSON writes v indented, as the data of a command.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// colors are ANSI SGR codes for the words that deserve them.
var colors = map[string]string{
	"active": "32", "success": "32",
	"paused": "33", "missed": "33", "skipped": "33", "running": "36",
	"failed": "31", "timeout": "31", "broken": "31", "interrupted": "31", "cancelled": "31",
	"finished": "2",
}

// useColor reports whether w is a terminal and NO_COLOR is unset
// (https://no-color.org).
func useColor(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	return isTerminal(w)
}

// table writes rows under a header with aligned columns. Cells whose first
// word has a colour are coloured when color is set; alignment counts only
// the visible text, which text/tabwriter cannot do.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer, color bool) error {
	widths := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b strings.Builder
	for r, row := range append([][]string{t.header}, t.rows...) {
		for i, c := range row {
			text := c
			if code, ok := colors[strings.Fields(c + " ")[0]]; ok && color && r > 0 {
				text = "\x1b[" + code + "m" + c + "\x1b[0m"
			}
			b.WriteString(text)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayWidth is how many columns of a terminal s takes: two for East
// Asian wide and fullwidth characters (CJK, most emoji), none for combining
// marks and invisible format characters (a zero-width joiner), one for the
// rest. Counting runes misaligned every table holding such ids or names.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		case width.LookupRune(r).Kind() == width.EastAsianWide, width.LookupRune(r).Kind() == width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
