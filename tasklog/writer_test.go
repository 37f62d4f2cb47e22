package tasklog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgmux/bgmux/fileutil"
)

// ftAppendLog opens task id's log as a supervisor does (which repairs
// what a killed one left), writes text, closes it and returns where the
// writer ended.
func ftAppendLog(t *testing.T, dir, text string) int64 {
	t.Helper()
	w, err := OpenWriter(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Append([]byte(text))
	w.Close()
	return w.End()
}

// ftWriter opens a log writer on a fresh task and records the loss
// records it saves.
func ftWriter(t *testing.T) (*Writer, *[]Loss) {
	t.Helper()
	w, err := OpenWriter(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	var saved []Loss
	w.SaveLoss = func(l Loss) error { saved = append(saved, l); return nil }
	return w, &saved
}

// ftBreak makes the writer's log unwritable (a descriptor open for
// reading only), or writable again, as a full disk would and then would
// not.
func ftBreak(t *testing.T, w *Writer, broken bool) {
	t.Helper()
	flag := os.O_WRONLY | os.O_APPEND
	if broken {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(w.log.path(LogFile), flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.f.Close()
	w.f = f
	w.retryAt = time.Time{} // try at once
	w.mu.Unlock()
}

func ftLogText(t *testing.T, w *Writer) string {
	t.Helper()
	b, err := os.ReadFile(w.log.path(LogFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLogWriterDropsAndResumes: while the log cannot be written, output is
// drained and counted; writing resumes at a line start (ending a cut line
// with the newline the task wrote), so the log holds only bytes the task
// wrote, in order, and the loss record says where and how much is missing.
func TestLogWriterDropsAndResumes(t *testing.T) {
	w, saved := ftWriter(t)
	w.Append([]byte("a 1\r\nb 2\r\n"))
	ftBreak(t, w, true)
	w.Append([]byte("c 3\r\nd 4"))
	if len(*saved) != 1 || !(*saved)[0].Dropping || (*saved)[0].Offset != 10 || (*saved)[0].Gaps != 1 {
		t.Fatalf("loss records after the first failure: %+v", *saved)
	}
	w.Append([]byte(" still down\r\n")) // within lossRetry: dropped untried
	ftBreak(t, w, false)
	w.Append([]byte("d 4 rest\r\ne 5\r\n"))
	w.Append([]byte("f 6\r\n"))
	if got, want := ftLogText(t, w), "a 1\r\nb 2\r\ne 5\r\nf 6\r\n"; got != want {
		t.Fatalf("log after a gap: %q, want %q", got, want)
	}
	last := (*saved)[len(*saved)-1]
	missing := int64(len("c 3\r\nd 4") + len(" still down\r\n") + len("d 4 rest\r\n"))
	if last.Dropping || last.Bytes != missing || last.Gaps != 1 || last.Offset != 10 || !strings.Contains(last.Reason, "bad file descriptor") {
		t.Fatalf("loss record after resuming: %+v, want %d bytes in 1 gap at 10", last, missing)
	}
	if w.End() != int64(len("a 1\r\nb 2\r\ne 5\r\nf 6\r\n")) {
		t.Fatalf("end offset %d does not match the bytes on disk", w.End())
	}

	// A gap that opens mid-line: the cut line is ended by the task's own
	// newline when writing resumes.
	w.Append([]byte("g 7"))
	ftBreak(t, w, true)
	w.Append([]byte(" more\r\nh 8\r\n"))
	ftBreak(t, w, false)
	w.Append([]byte("h 8 rest\r\ni 9\r\n"))
	if got, want := ftLogText(t, w), "a 1\r\nb 2\r\ne 5\r\nf 6\r\ng 7\ni 9\r\n"; got != want {
		t.Fatalf("log after a mid-line gap: %q, want %q", got, want)
	}
	last = (*saved)[len(*saved)-1]
	if last.Gaps != 2 || last.Offset != 10 || last.Dropping {
		t.Fatalf("loss record after the second gap: %+v", last)
	}
}

// TestLogWriterEndsCutLine: a log left mid-line (its supervisor killed)
// gets a line break before the next run's output; a whole one does not.
func TestLogWriterEndsCutLine(t *testing.T) {
	root := t.TempDir()
	for id, tc := range map[string]struct{ before, after string }{
		"bg-cut001": {"line 1\r\nline 2\r\nli", "line 1\r\nline 2\r\nli\r\n"},
		"bg-cut002": {"line 1\r\n", "line 1\r\n"},
		"bg-cut003": {"", ""},
	} {
		dir := filepath.Join(root, id)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, LogFile), []byte(tc.before), 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := OpenWriter(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		w.EndCutLine()
		w.Close()
		if b, _ := os.ReadFile(filepath.Join(dir, LogFile)); string(b) != tc.after {
			t.Errorf("log %q after endCutLine: %q, want %q", tc.before, b, tc.after)
		}
	}
}

// TestRepairRotation: a supervisor killed between writing logmeta and
// renaming the files of a rotation leaves logmeta naming files that are
// not in place yet; the next writer finishes the renames.
func TestRepairRotation(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) uint64 {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		ino, _, _ := fileutil.FileStat(filepath.Join(dir, name))
		return ino
	}
	write(PrevLogFile, "oldest\n")
	cur := write(LogFile, "older\n")
	next := write(LogFile+".new", "")
	if err := fileutil.WriteJSON(filepath.Join(dir, MetaFile), Meta{Base: 13, PrevBase: 7, CurIno: next, PrevIno: cur, PrevLineStart: true}); err != nil {
		t.Fatal(err)
	}
	ftAppendLog(t, dir, "newest\n")
	c, err := Log{Dir: dir}.Read(0, 0)
	if err != nil || string(c.Data) != "older\nnewest\n" || c.Start != 7 || c.End != 20 {
		t.Fatalf("log after the repair: %q from %d to %d (%v); want older+newest from 7 to 20", c.Data, c.Start, c.End, err)
	}
	if _, err := os.Stat(filepath.Join(dir, LogFile+".new")); err == nil {
		t.Fatalf("output.log.new is still there")
	}
}

// TestCorruptLogMeta: an unparsable logmeta is set aside and replaced by
// one that counts from the older segment's start, so both segments stay
// readable and writer and readers agree on offsets.
func TestCorruptLogMeta(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{PrevLogFile: "older\n", LogFile: "newer\n", MetaFile: "{\"base\": 1"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	end := ftAppendLog(t, dir, "newest\n")
	aside, _ := filepath.Glob(filepath.Join(dir, MetaFile) + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("logmeta not set aside: %v", aside)
	}
	c, err := Log{Dir: dir}.Read(0, 0)
	if err != nil || string(c.Data) != "older\nnewer\nnewest\n" || c.End != end {
		t.Fatalf("log after a damaged logmeta: %q to %d (%v), writer at %d", c.Data, c.End, err, end)
	}
}
