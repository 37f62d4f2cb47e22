package tasks

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// FuzzLogsGrep checks logs --grep (and --context) on a finished task whose
// log holds fuzzed bytes. A pattern regexp.Compile rejects is an
// invalid_input error naming --grep, never a panic; a valid one compiles
// to the same expression and Logs returns exactly what grep -C would: the
// cleaned lines that match and the lines within Context of a match, in
// order, each with its byte offset, a gap marked wherever lines were left
// out, and EndOffset at the end of the log.
func FuzzLogsGrep(f *testing.F) {
	s := OpenStore(filepath.Join(f.TempDir(), "state"))
	if err := s.Init(); err != nil {
		f.Fatal(err)
	}
	m := &Manager{Store: s}
	const id = "bg-grep01"
	putTask(f, s, resolveTask{id, "grep", "g", false, time.Now()})
	task, err := s.load(id)
	if err != nil || !task.State.Finished() {
		f.Fatalf("fixture task: %v %v", task, err)
	}
	for _, seed := range []struct {
		re, log string
		ctx     uint8
	}{
		{"ERROR", "ok\nERROR one\nok\nok\nERROR two\n", 0}, {"ERROR", "a\nERROR\nb\nc\nd\nERROR\n", 1},
		{"^$", "\n\n\n", 0}, {"x", "no newline at end x", 2}, {"(", "x\n", 0}, {"a{2,1}", "", 0}, {`\p{Greek}`, "αβγ\nabc\n", 0},
		{"red", "\x1b[31mred\x1b[0m\n", 0}, {"^100%$", "10%\r100%\n", 0}, {"\\x{fffd}", "\xff\xfe\n", 1},
		{"a{1000}", "a\n", 0}, {"a{1001}", "a\n", 0}, {"(?i)err", "Err\r\n", 3}, {"[[:^alpha:]]", "\t\n", 0},
		{"(?P<x>a)(?P<x>b)", "ab\n", 0}, {`\C`, "x\n", 0}, {"x**", "x\n", 0},
	} {
		f.Add(seed.re, []byte(seed.log), seed.ctx)
	}
	f.Fuzz(func(t *testing.T, pattern string, log []byte, ctx uint8) {
		if pattern == "" {
			return // no --grep at all
		}
		context := int(ctx % 4)
		if err := os.WriteFile(s.Path(id, LogFile), log, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := m.Logs(task, LogOptions{Grep: pattern, Context: context})
		want, cerr := regexp.Compile(pattern)
		if cerr != nil {
			if err == nil || KindOf(err) != KindInvalid || !strings.Contains(err.Error(), "--grep") {
				t.Fatalf("Logs with --grep %q (%v) = %v; want an invalid_input error naming --grep", pattern, cerr, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Logs with --grep %q: %v", pattern, err)
		}
		q, err := LogOptions{Grep: pattern}.compile(false)
		if err != nil || q.re.String() != want.String() {
			t.Fatalf("compile(%q) = %v, %v; want %v", pattern, q, err, want)
		}

		// The model: split on '\n', clean each line, keep matches and
		// their context.
		var lines []string
		var offs []int64
		off := int64(0)
		for len(log[off:]) > 0 {
			rest := log[off:]
			n := bytes.IndexByte(rest, '\n') + 1
			if n == 0 {
				n = len(rest)
			}
			lines = append(lines, lineText(rest[:n], false))
			offs = append(offs, off)
			off += int64(n)
		}
		keep := make([]bool, len(lines))
		for i, l := range lines {
			if want.MatchString(l) {
				for j := max(0, i-context); j <= min(len(lines)-1, i+context); j++ {
					keep[j] = true
				}
			}
		}
		wantLines, wantOffs, wantGaps := []string{}, []int64{}, []int(nil)
		last := -1
		for i, k := range keep {
			if !k {
				continue
			}
			if last >= 0 && i != last+1 {
				wantGaps = append(wantGaps, len(wantLines))
			}
			wantLines, wantOffs, last = append(wantLines, lines[i]), append(wantOffs, offs[i]), i
		}
		if !reflect.DeepEqual(res.Lines, wantLines) || !reflect.DeepEqual(res.Offsets, wantOffs) || !reflect.DeepEqual(res.Gaps, wantGaps) {
			t.Fatalf("--grep %q -C %d on %q:\n got lines %q offsets %v gaps %v\nwant lines %q offsets %v gaps %v",
				pattern, context, log, res.Lines, res.Offsets, res.Gaps, wantLines, wantOffs, wantGaps)
		}
		if res.EndOffset != int64(len(log)) || res.Size != int64(len(log)) {
			t.Fatalf("--grep %q on %d bytes: end_offset %d, size %d", pattern, len(log), res.EndOffset, res.Size)
		}
	})
}
