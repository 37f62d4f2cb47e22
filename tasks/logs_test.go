package tasks

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/tasklog"
)

// logFixture is a task on disk whose supervisor is the test process (so
// it is running until the test writes an exit record) and whose log files
// the test writes by hand.
type logFixture struct {
	t  *testing.T
	m  *Manager
	id string
}

func newLogFixture(t *testing.T) *logFixture {
	t.Helper()
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	f := &logFixture{t: t, m: &Manager{Store: s}, id: "bg-logs01"}
	fakeTask(t, s, f.id, "logs", "g", true, time.Now())
	return f
}

func (f *logFixture) path(name string) string { return f.m.Store.Path(f.id, name) }

// layout writes a rotated log by hand: prev (output.log.1) starting at
// logical offset prevBase, at a line start, and cur (output.log) right
// after it.
func (f *logFixture) layout(prev string, prevBase int64, cur string) {
	f.t.Helper()
	if err := os.WriteFile(f.path(PrevLogFile), []byte(prev), 0o600); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(f.path(LogFile), []byte(cur), 0o600); err != nil {
		f.t.Fatal(err)
	}
	meta := LogMeta{Base: prevBase + int64(len(prev)), PrevBase: prevBase, PrevLineStart: true}
	if err := fileutil.WriteJSON(f.path(LogMetaFile), meta); err != nil {
		f.t.Fatal(err)
	}
}

func (f *logFixture) append(s string) {
	f.t.Helper()
	w, err := os.OpenFile(f.path(LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		f.t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString(s); err != nil {
		f.t.Fatal(err)
	}
}

func (f *logFixture) exit(code int) {
	f.t.Helper()
	if err := fileutil.WriteJSON(f.path(ExitFile), Exit{Run: 1, ExitCode: &code, EndedAt: time.Now()}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *logFixture) task() *Task {
	f.t.Helper()
	tk, err := f.m.Store.load(f.id)
	if err != nil {
		f.t.Fatal(err)
	}
	return tk
}

func (f *logFixture) logs(o LogOptions) *LogResult {
	f.t.Helper()
	res, err := f.m.Logs(f.task(), o)
	if err != nil {
		f.t.Fatalf("Logs(%+v): %v", o, err)
	}
	return res
}

func off(n int64) *int64 { return &n }

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: lines %q, want %q", what, got, want)
	}
}

func TestLogsCleanAndRaw(t *testing.T) {
	f := newLogFixture(t)
	raw := "a\x1b[31mb\x1b[0m\r\n 10%\r100%\r\n\x1b]0;title\x07done\r\n"
	f.append(raw)
	res := f.logs(LogOptions{})
	wantLines(t, "clean", res.Lines, "ab", "100%", "done")
	if res.Data != nil {
		t.Fatalf("clean read has raw data %q", res.Data)
	}
	res = f.logs(LogOptions{Raw: true})
	if string(res.Data) != raw {
		t.Fatalf("raw data %q, want %q", res.Data, raw)
	}
	wantLines(t, "raw", res.Lines, "a\x1b[31mb\x1b[0m\r", " 10%\r100%\r", "\x1b]0;title\x07done\r")
	if res.Size != int64(len(raw)) || res.EndOffset != int64(len(raw)) || res.StartOffset != 0 || res.Dropped != 0 {
		t.Fatalf("offsets %+v", res)
	}
}

// A hand-built rotated layout: bytes before offset 100 are gone,
// output.log.1 holds line3 and line4, output.log line5 and line6.
func TestLogsRotatedLayout(t *testing.T) {
	f := newLogFixture(t)
	f.layout("line3\nline4\n", 100, "line5\nline6\n")
	res := f.logs(LogOptions{})
	wantLines(t, "all", res.Lines, "line3", "line4", "line5", "line6")
	if res.Dropped != 100 || res.StartOffset != 100 || res.EndOffset != 124 || res.Size != 124 || res.Skipped != 100 {
		t.Fatalf("all: %+v", res)
	}
	cases := []struct {
		name           string
		o              LogOptions
		lines          []string
		start, end, sk int64
		more           bool
	}{
		{"offset before the kept log", LogOptions{SinceOffset: off(50)}, []string{"line3", "line4", "line5", "line6"}, 100, 124, 50, false},
		{"offset in the older segment", LogOptions{SinceOffset: off(106)}, []string{"line4", "line5", "line6"}, 106, 124, 0, false},
		{"offset at the segment boundary", LogOptions{SinceOffset: off(112)}, []string{"line5", "line6"}, 112, 124, 0, false},
		{"offset mid-line", LogOptions{SinceOffset: off(103)}, []string{"e3", "line4", "line5", "line6"}, 103, 124, 0, false},
		{"offset at the end", LogOptions{SinceOffset: off(124)}, nil, 124, 124, 0, false},
		{"offset past the end", LogOptions{SinceOffset: off(1000)}, nil, 124, 124, 0, false},
		{"tail 1", LogOptions{Tail: 1}, []string{"line6"}, 118, 124, 0, false},
		{"tail across segments", LogOptions{Tail: 3}, []string{"line4", "line5", "line6"}, 106, 124, 0, false},
		{"tail beyond the kept log", LogOptions{Tail: 10}, []string{"line3", "line4", "line5", "line6"}, 100, 124, 0, false},
		{"head", LogOptions{Head: 2}, []string{"line3", "line4"}, 100, 112, 100, true},
		{"head of everything", LogOptions{Head: 4}, []string{"line3", "line4", "line5", "line6"}, 100, 124, 100, false},
		{"head from an offset", LogOptions{Head: 1, SinceOffset: off(112)}, []string{"line5"}, 112, 118, 0, true},
		{"tail from an offset", LogOptions{Tail: 2, SinceOffset: off(100)}, []string{"line5", "line6"}, 112, 124, 0, false},
	}
	for _, c := range cases {
		res := f.logs(c.o)
		wantLines(t, c.name, res.Lines, c.lines...)
		if res.StartOffset != c.start || res.EndOffset != c.end || res.Skipped != c.sk || res.Dropped != 100 || res.More != c.more {
			t.Fatalf("%s: start %d end %d skipped %d dropped %d more %v; want %d %d %d 100 %v",
				c.name, res.StartOffset, res.EndOffset, res.Skipped, res.Dropped, res.More, c.start, c.end, c.sk, c.more)
		}
	}
}

// Cursors are logical offsets: they survive rotation, and a reader that
// fell behind learns how much rotation dropped before it read it.
func TestLogsCursorsAcrossRotation(t *testing.T) {
	f := newLogFixture(t)
	f.append("line1\nline2\n")
	a := f.logs(LogOptions{New: true, Reader: "a"})
	wantLines(t, "a first", a.Lines, "line1", "line2")
	if a.Reader == nil || *a.Reader != "a" || a.StartOffset != 0 || a.EndOffset != 12 || a.Skipped != 0 {
		t.Fatalf("a first: %+v", a)
	}
	// Rotate: output.log becomes output.log.1, a new output.log follows.
	f.layout("line1\nline2\nline3\n", 0, "line4\n")
	a = f.logs(LogOptions{New: true, Reader: "a"})
	wantLines(t, "a after a rotation", a.Lines, "line3", "line4")
	if a.StartOffset != 12 || a.EndOffset != 24 || a.Skipped != 0 || a.Dropped != 0 {
		t.Fatalf("a after a rotation: %+v", a)
	}
	// Rotate again: line1..line3 are dropped (offset 18 is the oldest kept).
	f.layout("line4\nline5\n", 18, "line6\n")
	a = f.logs(LogOptions{New: true, Reader: "a"})
	wantLines(t, "a after two rotations", a.Lines, "line5", "line6")
	if a.Skipped != 0 || a.Dropped != 18 || a.StartOffset != 24 || a.EndOffset != 36 {
		t.Fatalf("a after two rotations: %+v", a)
	}
	// Reader b never read: it gets what is kept and hears of the rest.
	b := f.logs(LogOptions{New: true, Reader: "b"})
	wantLines(t, "b", b.Lines, "line4", "line5", "line6")
	if b.Skipped != 18 || b.StartOffset != 18 || b.EndOffset != 36 {
		t.Fatalf("b: %+v", b)
	}
	// Nothing new for either; the default reader is its own.
	for _, r := range []string{"a", "b"} {
		if res := f.logs(LogOptions{New: true, Reader: r}); len(res.Lines) != 0 || res.Skipped != 0 || res.EndOffset != 36 {
			t.Fatalf("reader %s again: %+v", r, res)
		}
	}
	d := f.logs(LogOptions{New: true})
	if d.Reader == nil || *d.Reader != DefaultReader || len(d.Lines) != 3 {
		t.Fatalf("default reader: %+v", d)
	}
	if _, err := os.Stat(filepath.Join(f.m.Store.TaskDir(f.id), CursorsDir, DefaultReader)); err != nil {
		t.Fatalf("default reader's cursor file: %v", err)
	}
	// A reader that had read line4 only, then fell behind two rotations.
	if err := f.m.Store.writeCursor(f.id, "c", 24); err != nil {
		t.Fatal(err)
	}
	f.layout("line8\n", 42, "line9\n")
	c := f.logs(LogOptions{New: true, Reader: "c"})
	wantLines(t, "c", c.Lines, "line8", "line9")
	if c.Skipped != 18 || c.Dropped != 42 || c.StartOffset != 42 {
		t.Fatalf("c: %+v", c)
	}
}

// --new and --since-offset hold back a line still being written (also one
// cut inside a UTF-8 sequence) until its newline arrives or the task ends;
// plain logs shows it but its end_offset stops before it.
func TestLogsPartialLines(t *testing.T) {
	f := newLogFixture(t)
	f.append("one\ntw")
	res := f.logs(LogOptions{})
	wantLines(t, "view", res.Lines, "one", "tw")
	if !res.Partial || res.EndOffset != 4 {
		t.Fatalf("view: partial %v end %d, want true 4", res.Partial, res.EndOffset)
	}
	n := f.logs(LogOptions{New: true})
	wantLines(t, "new 1", n.Lines, "one")
	if n.Partial || n.EndOffset != 4 {
		t.Fatalf("new 1: %+v", n)
	}
	s := f.logs(LogOptions{SinceOffset: off(0)})
	wantLines(t, "since-offset", s.Lines, "one")
	f.append("o\ncaf\xc3")
	n = f.logs(LogOptions{New: true})
	wantLines(t, "new 2", n.Lines, "two")
	f.append("\xa9\nlast")
	n = f.logs(LogOptions{New: true})
	wantLines(t, "new 3", n.Lines, "café")
	if n.EndOffset != 14 {
		t.Fatalf("new 3 end %d, want 14", n.EndOffset)
	}
	f.exit(0)
	n = f.logs(LogOptions{New: true})
	wantLines(t, "after exit", n.Lines, "last")
	if !n.Partial || n.EndOffset != 18 {
		t.Fatalf("after exit: %+v", n)
	}
	n = f.logs(LogOptions{New: true})
	wantLines(t, "drained", n.Lines)
}

// Raw --new returns exact bytes: the reads put together are the log.
func TestLogsRawNewIsExact(t *testing.T) {
	f := newLogFixture(t)
	var all bytes.Buffer
	pieces := []string{"a\x1b[1mb\r\n", "\xff\xfe\r", "\rxx\n", "half", "", "way\n\x00\n", "tail"}
	for _, p := range pieces {
		f.append(p)
		res := f.logs(LogOptions{New: true, Raw: true})
		all.Write(res.Data)
	}
	f.exit(0)
	all.Write(f.logs(LogOptions{New: true, Raw: true}).Data)
	if want := strings.Join(pieces, ""); all.String() != want {
		t.Fatalf("raw --new reads put together: %q, want %q", all.String(), want)
	}
}

// Two --new calls with the same reader never return the same line, even
// at once from many goroutines (the cursor lock is an flock, so this holds
// across processes too).
func TestLogsNewConcurrentSameReader(t *testing.T) {
	f := newLogFixture(t)
	const lines = 2000
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	done := make(chan struct{})
	read := func() {
		res, err := f.m.Logs(f.task(), LogOptions{New: true, Reader: "shared"})
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		for _, l := range res.Lines {
			seen[l]++
		}
		mu.Unlock()
	}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					read()
				}
			}
		}()
	}
	for i := 0; i < lines; i++ {
		f.append(fmt.Sprintf("line %d\n", i))
	}
	close(done)
	wg.Wait()
	read()
	if len(seen) != lines {
		t.Fatalf("%d distinct lines read, want %d", len(seen), lines)
	}
	for l, n := range seen {
		if n != 1 {
			t.Fatalf("line %q was returned %d times", l, n)
		}
	}
}

func TestLogsGrep(t *testing.T) {
	f := newLogFixture(t)
	for i := 1; i <= 10; i++ {
		if i == 3 || i == 8 {
			f.append(fmt.Sprintf("\x1b[31mERR\x1b[0mOR %d\r\n", i))
			continue
		}
		f.append(fmt.Sprintf("line %d\r\n", i))
	}
	res := f.logs(LogOptions{Grep: "^ERROR"})
	wantLines(t, "grep", res.Lines, "ERROR 3", "ERROR 8")
	if !reflect.DeepEqual(res.Gaps, []int{1}) {
		t.Fatalf("grep gaps %v", res.Gaps)
	}
	res = f.logs(LogOptions{Grep: "ERROR", Context: 1})
	wantLines(t, "grep -C 1", res.Lines, "line 2", "ERROR 3", "line 4", "line 7", "ERROR 8", "line 9")
	if !reflect.DeepEqual(res.Gaps, []int{3}) {
		t.Fatalf("grep -C 1 gaps %v", res.Gaps)
	}
	if want := []int64{8, 16, 34, 58, 66, 84}; !reflect.DeepEqual(res.Offsets, want) {
		t.Fatalf("grep -C 1 offsets %v, want %v", res.Offsets, want)
	}
	res = f.logs(LogOptions{Grep: "ERROR", Context: 2})
	wantLines(t, "grep -C 2 (groups touch)", res.Lines, "line 1", "line 2", "ERROR 3", "line 4", "line 5", "line 6", "line 7", "ERROR 8", "line 9", "line 10")
	if len(res.Gaps) != 0 {
		t.Fatalf("grep -C 2 gaps %v", res.Gaps)
	}
	res = f.logs(LogOptions{Grep: "ERROR", Head: 1})
	wantLines(t, "grep head", res.Lines, "ERROR 3")
	if !res.More {
		t.Fatal("grep --head 1 does not report more")
	}
	res = f.logs(LogOptions{Grep: "ERROR", Tail: 1, Raw: true})
	wantLines(t, "grep tail raw", res.Lines, "\x1b[31mERR\x1b[0mOR 8\r")
	if string(res.Data) != "\x1b[31mERR\x1b[0mOR 8\r\n" {
		t.Fatalf("grep tail raw data %q", res.Data)
	}
	// Grep consumes nothing: the whole log is still there.
	if all := f.logs(LogOptions{}); len(all.Lines) != 10 {
		t.Fatalf("after grep the log has %d lines", len(all.Lines))
	}
	// With --new the reader's cursor moves past what was examined.
	n := f.logs(LogOptions{New: true, Grep: "ERROR"})
	wantLines(t, "new grep", n.Lines, "ERROR 3", "ERROR 8")
	if n.EndOffset != n.Size {
		t.Fatalf("new grep end %d, size %d", n.EndOffset, n.Size)
	}
}

func TestLogsBadOptions(t *testing.T) {
	f := newLogFixture(t)
	f.append("x\n")
	bad := []LogOptions{
		{Head: -1}, {Tail: -1}, {Context: -1}, {Head: 1, Tail: 1}, {Context: 2},
		{Reader: "r"}, {New: true, Reader: "bad name"}, {New: true, Reader: "-x"},
		{New: true, Reader: strings.Repeat("r", 65)}, {SinceOffset: off(-1)},
		{New: true, SinceOffset: off(0)}, {New: true, Since: time.Minute}, {SinceOffset: off(0), Since: time.Minute},
		{Grep: "("}, {Grep: "a{2,1}"}, {Since: -time.Second},
	}
	for _, o := range bad {
		_, err := f.m.Logs(f.task(), o)
		if KindOf(err) != KindInvalid {
			t.Errorf("Logs(%+v): %v, want an invalid_input error", o, err)
		}
	}
	_, err := f.m.Logs(f.task(), LogOptions{Grep: "(unclosed"})
	if err == nil || !strings.Contains(err.Error(), "--grep") || !strings.Contains(err.Error(), "not a valid regular expression") {
		t.Fatalf("bad regexp error: %v", err)
	}
	if _, err := f.m.Follow(context.Background(), f.task(), LogOptions{Head: 1}, FollowHandler{}); KindOf(err) != KindInvalid {
		t.Fatalf("Follow with Head: %v", err)
	}
}

func TestLogsCorruptCursor(t *testing.T) {
	f := newLogFixture(t)
	f.append("x\n")
	if err := os.MkdirAll(filepath.Join(f.m.Store.TaskDir(f.id), CursorsDir), 0o700); err != nil {
		t.Fatal(err)
	}
	p := f.m.Store.Log(f.id).CursorPath("r")
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := f.m.Logs(f.task(), LogOptions{New: true, Reader: "r"})
	if err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("corrupt cursor: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "{not json" {
		t.Fatalf("corrupt cursor was overwritten: %q", b)
	}
}

// --since finds its start in the time index (moved back to the start of
// the line the entry falls in) and reads only what follows.
func TestLogsSince(t *testing.T) {
	f := newLogFixture(t)
	f.append("old line\nmid line\nnew line\n")
	res := f.logs(LogOptions{Since: time.Minute})
	wantLines(t, "no index", res.Lines, "old line", "mid line", "new line")
	if res.SinceExact == nil || *res.SinceExact {
		t.Fatalf("no index: since_exact %v, want false", res.SinceExact)
	}
	now := time.Now()
	idx := fmt.Sprintf("%d 0\n%d 12\n%d 22\n", now.Add(-10*time.Minute).UnixMilli(), now.Add(-5*time.Minute).UnixMilli(), now.Add(-30*time.Second).UnixMilli())
	if err := os.WriteFile(f.path(TimeIndexFile), []byte(idx+"12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d     time.Duration
		lines []string
	}{
		{time.Minute, []string{"new line"}},
		{7 * time.Minute, []string{"mid line", "new line"}},
		{time.Hour, []string{"old line", "mid line", "new line"}},
		{time.Second, nil},
	} {
		res := f.logs(LogOptions{Since: c.d})
		wantLines(t, "since "+c.d.String(), res.Lines, c.lines...)
		if res.SinceExact == nil || !*res.SinceExact {
			t.Fatalf("since %v: since_exact %v, want true", c.d, res.SinceExact)
		}
	}
	// A long index is read from its end.
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "%d 0\n", now.Add(-time.Hour).UnixMilli()+int64(i))
	}
	fmt.Fprintf(&b, "%d 9\n", now.Add(-2*time.Second).UnixMilli())
	if err := os.WriteFile(f.path(TimeIndexFile), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	wantLines(t, "long index", f.logs(LogOptions{Since: 10 * time.Second}).Lines, "mid line", "new line")
}

// Lines longer than a read chunk, and many of them, come back whole.
func TestLogsLongLinesAcrossChunks(t *testing.T) {
	f := newLogFixture(t)
	var want []string
	var b strings.Builder
	for i := 0; i < 40; i++ {
		l := strings.Repeat(string(rune('a'+i%26)), (i*97913)%(3*tasklog.ScanChunk/2)+1)
		want = append(want, l)
		b.WriteString(l + "\n")
	}
	for i := 0; i < 50000; i++ {
		l := fmt.Sprintf("short %d", i)
		want = append(want, l)
		b.WriteString(l + "\n")
	}
	f.append(b.String())
	res := f.logs(LogOptions{})
	if !reflect.DeepEqual(res.Lines, want) {
		t.Fatalf("read %d lines, want %d", len(res.Lines), len(want))
	}
	tail := f.logs(LogOptions{Tail: 50003})
	if !reflect.DeepEqual(tail.Lines, want[len(want)-50003:]) {
		t.Fatalf("tail: %d lines", len(tail.Lines))
	}
}

// Follow passes on lines as they are written, holds back a line without
// its newline, and returns when the run's exit record appears.
func TestFollow(t *testing.T) {
	f := newLogFixture(t)
	f.layout("gone\nkept\n", 5, "")
	got := make(chan LogLine, 100)
	lost := make(chan [2]int64, 10)
	type result struct {
		res *FollowResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := f.m.Follow(context.Background(), f.task(), LogOptions{}, FollowHandler{
			Line: func(l LogLine) error { got <- l; return nil },
			Lost: func(s, d int64) error { lost <- [2]int64{s, d}; return nil },
		})
		done <- result{res, err}
	}()
	next := func(want string) LogLine {
		t.Helper()
		select {
		case l := <-got:
			if l.Text != want {
				t.Fatalf("followed line %q, want %q", l.Text, want)
			}
			return l
		case <-time.After(10 * time.Second):
			t.Fatalf("no line %q within 10s", want)
		}
		return LogLine{}
	}
	if l := <-lost; l != [2]int64{5, 5} {
		t.Fatalf("lost report %v, want 5 skipped of 5 dropped", l)
	}
	next("gone")
	if l := next("kept"); l.Offset != 10 {
		t.Fatalf("kept at offset %d", l.Offset)
	}
	f.append("\x1b[1mbold\x1b[0m\r\n")
	next("bold")
	f.append("unfinished")
	f.append(" line\nlast without newline")
	next("unfinished line")
	f.exit(4)
	next("last without newline")
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.res.Task.State != Exited || *r.res.Task.ExitCode != 4 || r.res.EndOffset != 65 {
			t.Fatalf("follow result: state %s end %d", r.res.Task.State, r.res.EndOffset)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not return after the exit record")
	}
}

// Follow with New claims each batch from the reader's cursor.
func TestFollowNew(t *testing.T) {
	f := newLogFixture(t)
	f.append("seen\n")
	f.logs(LogOptions{New: true, Reader: "r"})
	f.append("fresh\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 10)
	errc := make(chan error, 1)
	go func() {
		_, err := f.m.Follow(ctx, f.task(), LogOptions{New: true, Reader: "r"}, FollowHandler{Line: func(l LogLine) error { got <- l.Text; return nil }})
		errc <- err
	}()
	select {
	case l := <-got:
		if l != "fresh" {
			t.Fatalf("first followed line %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no line")
	}
	f.append("more\n")
	select {
	case l := <-got:
		if l != "more" {
			t.Fatalf("second followed line %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no second line")
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("cancelled Follow: %v", err)
	}
	if res := f.logs(LogOptions{New: true, Reader: "r"}); len(res.Lines) != 0 {
		t.Fatalf("the follower's reader still had %q", res.Lines)
	}
}
