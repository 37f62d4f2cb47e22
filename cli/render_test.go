package cli

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/bgmux/bgmux/tasks"
)

// TestViewQuoteWord: each argv word is shown as a shell needs it typed,
// and sh reads the shown word back as the same word; a shell string is
// shown as typed, after "$ ".
func TestViewQuoteWord(t *testing.T) {
	cases := map[string]string{
		"plain":                           "plain",
		"":                                "''",
		`for i in 1 2; do echo "tick $i"`: `'for i in 1 2; do echo "tick $i"'`,
		"it's":                            `'it'\''s'`,
		`back\slash`:                      `'back\slash'`,
		"two\nlines":                      `$'two\nlines'`,
		"esc\x1b[31m'":                    `$'esc\x1b[31m\''`,
		"bad\xffbyte":                     `$'bad\xffbyte'`,
	}
	for in, want := range cases {
		if got := quoteWord(in); got != want {
			t.Errorf("quoteWord(%q) = %s, want %s", in, got, want)
		}
	}
	if bash, err := exec.LookPath("bash"); err == nil {
		for in := range cases {
			out, err := exec.Command(bash, "-c", "printf %s "+quoteWord(in)).Output()
			if err != nil || string(out) != in {
				t.Errorf("bash reads %s back as %q (%v), want %q", quoteWord(in), out, err, in)
			}
		}
	}
	cmd := `echo "a b" | cat`
	if got := commandText(&tasks.Task{Command: &cmd}); got != `$ echo "a b" | cat` {
		t.Errorf("shell string shown as %s", got)
	}
	if got := commandText(&tasks.Task{Argv: []string{"sh", "-c", `echo "x"`}}); got != `sh -c 'echo "x"'` {
		t.Errorf("argv shown as %s", got)
	}
	if got := oneLine("a\tb\"c\\"); got != `a\tb"c\` {
		t.Errorf("oneLine escapes quotes: %s", got)
	}
}

// TestViewLayoutTableFits: rows are padded into columns and the last
// column is cut so a row fits the width; with no width nothing is cut.
func TestViewLayoutTableFits(t *testing.T) {
	rows := func() [][]string {
		return [][]string{{"ID", "NAME", "COMMAND"}, {"bg-1", "wide名前", strings.Repeat("c", 50)}, {"bg-22", "n", "short"}}
	}
	for _, width := range []int{30, 20, 5} {
		for _, l := range layoutTable(rows(), width) {
			line := strings.TrimRight(strings.Join(l.cells, "  "), " ")
			if w := tasks.StringWidth(line); w > max(width, 20) {
				t.Errorf("width %d: line %q takes %d columns", width, line, w)
			}
		}
	}
	ls := layoutTable(rows(), 30)
	if got := strings.Join(ls[1].cells, "  "); got != "bg-1   wide名前  cccccccccccc…" {
		t.Errorf("row cut to 30 columns: %q", got)
	}
	if got := strings.Join(layoutTable(rows(), 0)[1].cells, "  "); !strings.HasSuffix(got, strings.Repeat("c", 50)) {
		t.Errorf("row with no width was cut: %q", got)
	}
}
