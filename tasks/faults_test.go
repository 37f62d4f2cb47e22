package tasks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgmux/bgmux/fileutil"
)

// ftTask writes a finished task (spec, run and exit 0 of a supervisor that
// is gone) straight into the store.
func ftTask(t *testing.T, s *Store, id, name string) {
	t.Helper()
	if err := os.MkdirAll(s.TaskDir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	c := "true"
	code := 0
	for file, v := range map[string]any{
		SpecFile: Spec{ID: id, Name: name, Group: "g", Command: &c, CreatedAt: time.Now()},
		RunFile:  Run{Run: 1, SupervisorPID: 1 << 30, PID: 1 << 30, PGID: 1 << 30, BootID: BootID()},
		ExitFile: Exit{Run: 1, ExitCode: &code},
	} {
		if err := fileutil.WriteJSON(s.Path(id, file), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(s.Path(id, LogFile), []byte("out of "+name+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// ftAppendLog opens task id's log as a supervisor does (which repairs
// what a killed one left), writes text, closes it and returns where the
// writer ended.
func ftAppendLog(t *testing.T, s *Store, id, text string) int64 {
	t.Helper()
	w, err := openLogWriter(s, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.write([]byte(text))
	w.close()
	return w.end()
}

// ftWriter opens a log writer on a fresh task and records the loss
// records it saves.
func ftWriter(t *testing.T) (*logWriter, *[]LogLoss) {
	t.Helper()
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	ftTask(t, s, "bg-fault1", "w")
	os.Remove(s.Path("bg-fault1", LogFile))
	w, err := openLogWriter(s, "bg-fault1", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	var saved []LogLoss
	w.saveLoss = func(l LogLoss) error { saved = append(saved, l); return nil }
	return w, &saved
}

// ftBreak makes the writer's log unwritable (a descriptor open for
// reading only), or writable again, as a full disk would and then would
// not.
func ftBreak(t *testing.T, w *logWriter, broken bool) {
	t.Helper()
	flag := os.O_WRONLY | os.O_APPEND
	if broken {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(w.store.Path(w.id, LogFile), flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.f.Close()
	w.f = f
	w.retryAt = time.Time{} // try at once
	w.mu.Unlock()
}

func ftLogText(t *testing.T, w *logWriter) string {
	t.Helper()
	b, err := os.ReadFile(w.store.Path(w.id, LogFile))
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
	w.write([]byte("a 1\r\nb 2\r\n"))
	ftBreak(t, w, true)
	w.write([]byte("c 3\r\nd 4"))
	if len(*saved) != 1 || !(*saved)[0].Dropping || (*saved)[0].Offset != 10 || (*saved)[0].Gaps != 1 {
		t.Fatalf("loss records after the first failure: %+v", *saved)
	}
	w.write([]byte(" still down\r\n")) // within lossRetry: dropped untried
	ftBreak(t, w, false)
	w.write([]byte("d 4 rest\r\ne 5\r\n"))
	w.write([]byte("f 6\r\n"))
	if got, want := ftLogText(t, w), "a 1\r\nb 2\r\ne 5\r\nf 6\r\n"; got != want {
		t.Fatalf("log after a gap: %q, want %q", got, want)
	}
	last := (*saved)[len(*saved)-1]
	missing := int64(len("c 3\r\nd 4") + len(" still down\r\n") + len("d 4 rest\r\n"))
	if last.Dropping || last.Bytes != missing || last.Gaps != 1 || last.Offset != 10 || !strings.Contains(last.Reason, "bad file descriptor") {
		t.Fatalf("loss record after resuming: %+v, want %d bytes in 1 gap at 10", last, missing)
	}
	if w.end() != int64(len("a 1\r\nb 2\r\ne 5\r\nf 6\r\n")) {
		t.Fatalf("end offset %d does not match the bytes on disk", w.end())
	}

	// A gap that opens mid-line: the cut line is ended by the task's own
	// newline when writing resumes.
	w.write([]byte("g 7"))
	ftBreak(t, w, true)
	w.write([]byte(" more\r\nh 8\r\n"))
	ftBreak(t, w, false)
	w.write([]byte("h 8 rest\r\ni 9\r\n"))
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
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	for id, tc := range map[string]struct{ before, after string }{
		"bg-cut001": {"line 1\r\nline 2\r\nli", "line 1\r\nline 2\r\nli\r\n"},
		"bg-cut002": {"line 1\r\n", "line 1\r\n"},
		"bg-cut003": {"", ""},
	} {
		ftTask(t, s, id, id)
		if err := os.WriteFile(s.Path(id, LogFile), []byte(tc.before), 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := openLogWriter(s, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		w.endCutLine()
		w.close()
		if b, _ := os.ReadFile(s.Path(id, LogFile)); string(b) != tc.after {
			t.Errorf("log %q after endCutLine: %q, want %q", tc.before, b, tc.after)
		}
	}
}

// TestRepairRotation: a supervisor killed between writing logmeta and
// renaming the files of a rotation leaves logmeta naming files that are
// not in place yet; the next writer finishes the renames.
func TestRepairRotation(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	id := "bg-rotat1"
	ftTask(t, s, id, "r")
	write := func(name, text string) uint64 {
		if err := os.WriteFile(s.Path(id, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		ino, _, _ := fileutil.FileStat(s.Path(id, name))
		return ino
	}
	write(PrevLogFile, "oldest\n")
	cur := write(LogFile, "older\n")
	next := write(LogFile+".new", "")
	if err := fileutil.WriteJSON(s.Path(id, LogMetaFile), LogMeta{Base: 13, PrevBase: 7, CurIno: next, PrevIno: cur, PrevLineStart: true}); err != nil {
		t.Fatal(err)
	}
	ftAppendLog(t, s, id, "newest\n")
	c, err := s.readLog(id, 0, 0)
	if err != nil || string(c.Data) != "older\nnewest\n" || c.Start != 7 || c.End != 20 {
		t.Fatalf("log after the repair: %q from %d to %d (%v); want older+newest from 7 to 20", c.Data, c.Start, c.End, err)
	}
	if _, err := os.Stat(s.Path(id, LogFile+".new")); err == nil {
		t.Fatalf("output.log.new is still there")
	}
}

// TestCorruptLogMeta: an unparsable logmeta is set aside and replaced by
// one that counts from the older segment's start, so both segments stay
// readable and writer and readers agree on offsets.
func TestCorruptLogMeta(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	id := "bg-meta01"
	ftTask(t, s, id, "m")
	for name, text := range map[string]string{PrevLogFile: "older\n", LogFile: "newer\n", LogMetaFile: "{\"base\": 1"} {
		if err := os.WriteFile(s.Path(id, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	end := ftAppendLog(t, s, id, "newest\n")
	aside, _ := filepath.Glob(s.Path(id, LogMetaFile) + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("logmeta not set aside: %v", aside)
	}
	c, err := s.readLog(id, 0, 0)
	if err != nil || string(c.Data) != "older\nnewer\nnewest\n" || c.End != end {
		t.Fatalf("log after a damaged logmeta: %q to %d (%v), writer at %d", c.Data, c.End, err, end)
	}
}

// TestSetAside: a task with an unparsable sidecar is reported once and
// moved whole to corrupt/<id> with a note; the other tasks load as
// before; asking for it by id or name says where it went.
func TestSetAside(t *testing.T) {
	root := t.TempDir()
	s := OpenStore(filepath.Join(root, "state"))
	m := &Manager{Store: s, Cwd: root}
	ftTask(t, s, "bg-good01", "good")
	ftTask(t, s, "bg-bad001", "bad")
	bad := []byte(`{"run": 1, "exit_co`)
	if err := os.WriteFile(s.Path("bg-bad001", ExitFile), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	all, err := s.loadAll()
	if err != nil || len(all) != 1 || all[0].ID != "bg-good01" {
		t.Fatalf("loadAll beside a damaged task: %v %v", all, err)
	}
	dir := filepath.Join(s.Dir, CorruptDir, "bg-bad001")
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "task bg-bad001 (bad) was set aside: its exit sidecar is truncated") || !strings.Contains(s.Warnings[0], dir) {
		t.Fatalf("warnings: %q", s.Warnings)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ExitFile)); err != nil || string(b) != string(bad) {
		t.Fatalf("set-aside exit: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, LogFile)); err != nil || string(b) != "out of bad\r\n" {
		t.Fatalf("set-aside log: %q %v", b, err)
	}
	var note setAsideRecord
	if err := readJSON(filepath.Join(dir, SetAsideNote), &note); err != nil || note.File != ExitFile || note.Name != "bad" {
		t.Fatalf("note: %+v %v", note, err)
	}
	s.Warnings = nil
	if _, err := s.loadAll(); err != nil || len(s.Warnings) != 0 {
		t.Fatalf("second loadAll: %v, warnings %q", err, s.Warnings)
	}
	for _, ref := range []string{"bg-bad001", "bad", "bg-bad"} {
		_, err := m.Get(ref)
		var sa *SetAsideError
		if KindOf(err) != KindCorrupt || !errors.As(err, &sa) || sa.Dir != dir || !strings.Contains(err.Error(), filepath.Join(dir, ExitFile)) {
			t.Errorf("Get(%q) = %v, want a corrupt error naming %s", ref, err, dir)
		}
	}
	if _, err := m.Get("good"); err != nil {
		t.Fatalf("Get(good): %v", err)
	}

	// A task whose supervisor still runs (this process) stays in place.
	ftTask(t, s, "bg-live01", "live")
	self := os.Getpid()
	if err := fileutil.WriteJSON(s.Path("bg-live01", RunFile), Run{Run: 1, SupervisorPID: self, SupervisorStart: procStart(self), PID: self, PGID: self, BootID: BootID()}); err != nil {
		t.Fatal(err)
	}
	os.Remove(s.Path("bg-live01", ExitFile))
	if err := os.WriteFile(s.Path("bg-live01", WindowFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		s.Warnings = nil
		s.loadAll()
		if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "its window sidecar") || !strings.Contains(s.Warnings[0], "is empty") || !strings.Contains(s.Warnings[0], "still runs") {
			t.Fatalf("warnings for a live damaged task: %q", s.Warnings)
		}
		if !s.Exists("bg-live01") {
			t.Fatalf("a live task was moved")
		}
	}
}

// TestReadHistorySetsAside: a damaged history is renamed aside before a
// new one is written, never overwritten.
func TestReadHistorySetsAside(t *testing.T) {
	p := filepath.Join(t.TempDir(), HistoryFile)
	os.WriteFile(p, []byte("[{"), 0o600)
	hist, ok := readHistory(p)
	if !ok || hist != nil {
		t.Fatalf("readHistory of a damaged file: %v %v", hist, ok)
	}
	aside, _ := filepath.Glob(p + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("not set aside: %v", aside)
	}
	if b, _ := os.ReadFile(aside[0]); string(b) != "[{" {
		t.Fatalf("set-aside history changed: %q", b)
	}
}

// TestDiskReserve: the reserve holds reserveSize bytes, gives them back a
// step at a time down to a floor, and is gone when spent or removed.
func TestDiskReserve(t *testing.T) {
	p := filepath.Join(t.TempDir(), ReserveFile)
	r := newDiskReserve(p)
	<-r.filled // filled in the background
	if st, err := os.Stat(p); err != nil || st.Size() != reserveSize {
		t.Fatalf("reserve: %v %v", st, err)
	}
	n := 0
	for r.release(reserveSize / 2) {
		n++
	}
	if st, _ := os.Stat(p); n != (reserveSize/2)/reserveStep || st.Size() != reserveSize/2 {
		t.Fatalf("released %d steps down to %d", n, st.Size())
	}
	for r.release(0) {
	}
	if _, err := os.Stat(p); err == nil {
		t.Fatalf("a spent reserve is still there")
	}
	r = newDiskReserve(p)
	r.remove()
	if _, err := os.Stat(p); err == nil || r.release(0) {
		t.Fatalf("a removed reserve is still there")
	}
}
