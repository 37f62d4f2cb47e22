package tests

// End-to-end tests of reading output: cleaning, cursors (--new), offsets
// (--since-offset), filters (--grep, --head, --tail) and --follow. Tasks
// that must pause wait on a FIFO the test opens, never on a sleep.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logsDoc is the --json document of bgmux logs.
type logsDoc struct {
	ID          string   `json:"id"`
	Size        int64    `json:"size"`
	StartOffset int64    `json:"start_offset"`
	EndOffset   int64    `json:"end_offset"`
	Skipped     int64    `json:"skipped"`
	Dropped     int64    `json:"dropped"`
	Reader      string   `json:"reader"`
	SinceExact  *bool    `json:"since_exact"`
	Partial     bool     `json:"partial"`
	More        bool     `json:"more"`
	Lines       []string `json:"lines"`
}

// logsJSON runs bgmux logs --json with args and decodes its one document.
func logsJSON(t *testing.T, e *env, args ...string) logsDoc {
	t.Helper()
	out := e.must(append([]string{"logs", "--json"}, args...)...)
	var d logsDoc
	edgeOneJSON(t, fmt.Sprintf("logs --json %q", args), out, &d)
	return d
}

// waitLine polls until the task's log holds want as a complete line
// (its newline written), without moving any reader's cursor.
func waitLine(t *testing.T, e *env, ref, want string) {
	t.Helper()
	var last []string
	if !poll(20*time.Second, func() bool {
		last = logsJSON(t, e, "--since-offset", "0", ref).Lines
		return slices.Contains(last, want)
	}) {
		t.Fatalf("the log of %s never held the line %q; lines %q", ref, want, last)
	}
}

// gate is a FIFO a task blocks on (read x < gate) until the test opens it.
type gate string

func newGate(t *testing.T, dir, name string) gate {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return gate(p)
}

// open lets the task waiting on the gate go on: opening the FIFO for
// writing blocks until the task opens it for reading, then a line is
// written and the FIFO closed.
func (g gate) open(t *testing.T) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(string(g), os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString("go\n")
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		// Unblock the goroutine by opening the reading end ourselves.
		if f, err := os.OpenFile(string(g), os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatalf("no task read the gate %s within 20s", g)
	}
}

// bodyLines drops empty lines and lines starting "[bgmux] " (bgmux's
// own notices), leaving what the task printed.
func bodyLines(lines []string) []string {
	out := []string{}
	for _, l := range lines {
		if l == "" || strings.HasPrefix(l, "[bgmux] ") {
			continue
		}
		out = append(out, l)
	}
	return out
}

func TestLogsProgressBarAndColours(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	script := `printf '\033[1;32mgreen\033[0m and \033[4mplain\033[0m\n'
for i in 0 10 20 30 40 50 60 70 80 90; do printf '\rdownloading %3d%%' $i; done
printf '\rdownloading 100%%\n'
printf '\033[2K\r|\033[2K\r/\033[2K\rspinner done\n'
printf '\033]0;window title\007after title\n'`
	tk := e.start("--name", "bar", "--", script)
	e.waitFinished(tk.ID)
	d := logsJSON(t, e, tk.ID)
	want := []string{"green and plain", "downloading 100%", "spinner done", "after title"}
	if got := bodyLines(d.Lines); !reflect.DeepEqual(got, want) {
		t.Fatalf("cleaned lines %q, want %q", got, want)
	}
	text := e.must("logs", tk.ID)
	if strings.ContainsAny(text, "\x1b\r") {
		t.Fatalf("logs without --raw still has escapes or CRs: %q", text)
	}
	if !strings.Contains(text, "downloading 100%\n") || strings.Contains(text, "downloading  90%") {
		t.Fatalf("logs: progress bar not resolved to its final state:\n%s", text)
	}
	raw := e.must("logs", "--raw", tk.ID)
	for _, w := range []string{"\x1b[1;32mgreen\x1b[0m", "\rdownloading  90%\rdownloading 100%", "\x1b]0;window title\a"} {
		if !strings.Contains(raw, w) {
			t.Fatalf("logs --raw lacks %q:\n%q", w, raw)
		}
	}
}

func TestLogsNewOnceThenNothing(t *testing.T) {
	e := newEnv(t)
	g := newGate(t, e.Dir, "gate")
	tk := e.start("--name", "inc", "--", fmt.Sprintf("printf 'first\\n'; read x < %s; printf 'second\\n'; exit 3", g))
	waitLine(t, e, tk.ID, "first")

	if got := e.must("logs", "--new", "inc"); got != "first\n" {
		t.Fatalf("first --new: %q", got)
	}
	if got := e.must("logs", "--new", "inc"); got != "" {
		t.Fatalf("second --new: %q, want nothing", got)
	}
	g.open(t)
	e.waitFinished(tk.ID)
	d := logsJSON(t, e, "--new", "inc")
	if got := bodyLines(d.Lines); !reflect.DeepEqual(got, []string{"second"}) {
		t.Fatalf("--new after more output: %q", d.Lines)
	}
	if d.Reader != "default" || d.EndOffset != d.Size || d.Skipped != 0 || d.Dropped != 0 {
		t.Fatalf("--new document: %+v", d)
	}
	if d := logsJSON(t, e, "--new", "inc"); len(d.Lines) != 0 {
		t.Fatalf("--new at the end: %q", d.Lines)
	}
	// Another reader has its own cursor and gets everything.
	for _, r := range []string{"agent-2", "agent-3"} {
		d := logsJSON(t, e, "--new", "--reader", r, "inc")
		if got := bodyLines(d.Lines); !reflect.DeepEqual(got, []string{"first", "second"}) {
			t.Fatalf("reader %s: %q", r, d.Lines)
		}
	}
	// Reader names are checked.
	r := e.run("logs", "--new", "--reader", "../x", "inc")
	if r.Code != 2 || !strings.Contains(r.Err, "reader name") {
		t.Fatalf("bad reader name: exit %d, stderr %q", r.Code, r.Err)
	}
}

// Twenty agents reading at once, each with its own reader, all get every
// line; ten agents sharing one reader never get the same line twice.
func TestLogsNewConcurrentReaders(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "many", "--", "seq", "1", "300")
	e.waitFinished(tk.ID)
	want := make([]string, 300)
	for i := range want {
		want[i] = fmt.Sprint(i + 1)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 40)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.run("logs", "--new", "--json", "--reader", fmt.Sprintf("reader-%d", i), "many")
			var d logsDoc
			if r.Code != 0 || json.Unmarshal([]byte(r.Out), &d) != nil {
				errs <- fmt.Sprintf("reader %d: exit %d %s %s", i, r.Code, r.Out, r.Err)
				return
			}
			if got := bodyLines(d.Lines); !reflect.DeepEqual(got, want) {
				errs <- fmt.Sprintf("reader %d got %d lines", i, len(got))
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}

	var mu sync.Mutex
	seen := map[string]int{}
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r := e.run("logs", "--new", "--head", "7", "--json", "--reader", "shared", "many")
				var d logsDoc
				if r.Code != 0 || json.Unmarshal([]byte(r.Out), &d) != nil {
					t.Errorf("shared reader: exit %d %s %s", r.Code, r.Out, r.Err)
					return
				}
				if len(d.Lines) == 0 {
					return
				}
				mu.Lock()
				for _, l := range d.Lines {
					seen[l]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, l := range want {
		if seen[l] != 1 {
			t.Fatalf("line %q was returned %d times to the shared reader", l, seen[l])
		}
	}
}

func TestLogsGrepHeadTail(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "nums", "--", `for i in $(seq 1 30); do if [ $((i % 10)) = 5 ]; then printf '\033[31mERROR\033[0m at %d\n' $i; else echo "line $i"; fi; done`)
	e.waitFinished(tk.ID)

	out := e.must("logs", "nums", "--grep", "^ERROR", "-C", "1")
	want := "line 4\nERROR at 5\nline 6\n--\nline 14\nERROR at 15\nline 16\n--\nline 24\nERROR at 25\nline 26\n"
	if out != want {
		t.Fatalf("--grep -C 1:\n%s\nwant:\n%s", out, want)
	}
	d := logsJSON(t, e, "nums", "--grep", "ERROR", "--tail", "1")
	if !reflect.DeepEqual(d.Lines, []string{"ERROR at 25"}) {
		t.Fatalf("--grep --tail 1: %q", d.Lines)
	}
	// Nothing was consumed: a --new reader still gets every line.
	if d := logsJSON(t, e, "nums", "--new"); len(bodyLines(d.Lines)) != 30 {
		t.Fatalf("--new after --grep: %d lines", len(bodyLines(d.Lines)))
	}
	if out := e.must("logs", "--head", "3", "nums"); out != "line 1\nline 2\nline 3\n" {
		t.Fatalf("--head 3: %q", out)
	}
	d = logsJSON(t, e, "--head", "2", "nums")
	if !d.More || !reflect.DeepEqual(d.Lines, []string{"line 1", "line 2"}) {
		t.Fatalf("--head 2 --json: %+v", d)
	}
	// Paging: --since-offset from each end_offset reads the rest in turn.
	var paged []string
	for off := int64(0); ; {
		d := logsJSON(t, e, "--head", "8", "--since-offset", fmt.Sprint(off), "nums")
		paged = append(paged, d.Lines...)
		if !d.More {
			break
		}
		off = d.EndOffset
	}
	if all := logsJSON(t, e, "nums").Lines; !reflect.DeepEqual(paged, all) {
		t.Fatalf("paged with --head 8: %q\nwhole log: %q", paged, all)
	}
	tail := bodyLines(logsJSON(t, e, "--tail", "4", "nums").Lines)
	if len(tail) == 0 || tail[len(tail)-1] != "line 30" {
		t.Fatalf("--tail 4: %q", tail)
	}
	r := e.run("logs", "--grep", "([", "nums")
	if r.Code != 2 || !strings.Contains(r.Err, "not a valid regular expression") {
		t.Fatalf("bad --grep: exit %d, stderr %q", r.Code, r.Err)
	}
	r = e.run("logs", "--json", "--grep", "([", "nums")
	var ej struct {
		Error struct{ Kind string } `json:"error"`
	}
	edgeOneJSON(t, "bad --grep --json", r.Out, &ej)
	if r.Code != 2 || ej.Error.Kind != "invalid_input" {
		t.Fatalf("bad --grep --json: exit %d, %s", r.Code, r.Out)
	}
	for _, args := range [][]string{{"--head", "1", "--tail", "1"}, {"-C", "2"}, {"--reader", "x"}, {"--new", "--since-offset", "0"}, {"--since-offset", "-1"}, {"--since", "0"}, {"--since", "soon"}} {
		if r := e.run(append([]string{"logs", "nums"}, args...)...); r.Code != 2 {
			t.Errorf("logs %q: exit %d, want 2 (stderr %q)", args, r.Code, r.Err)
		}
	}
}

// A stateless client passes end_offset back as --since-offset and gets
// exactly what came after.
func TestLogsSinceOffsetRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := newGate(t, e.Dir, "gate")
	tk := e.start("--name", "offs", "--", fmt.Sprintf("printf 'before\\n'; read x < %s; printf 'after\\n'", g))
	waitLine(t, e, tk.ID, "before")
	d1 := logsJSON(t, e, "offs", "--since-offset", "0")
	if !reflect.DeepEqual(d1.Lines, []string{"before"}) || d1.StartOffset != 0 || d1.EndOffset == 0 {
		t.Fatalf("first read: %+v", d1)
	}
	if d := logsJSON(t, e, "offs", "--since-offset", fmt.Sprint(d1.EndOffset)); len(d.Lines) != 0 || d.EndOffset != d1.EndOffset {
		t.Fatalf("nothing new yet: %+v", d)
	}
	g.open(t)
	e.waitFinished(tk.ID)
	d2 := logsJSON(t, e, "offs", "--since-offset", fmt.Sprint(d1.EndOffset))
	if got := bodyLines(d2.Lines); !reflect.DeepEqual(got, []string{"after"}) {
		t.Fatalf("second read: %q", d2.Lines)
	}
	if d2.StartOffset != d1.EndOffset || d2.EndOffset != d2.Size {
		t.Fatalf("second read offsets: %+v (first ended at %d)", d2, d1.EndOffset)
	}
	// Raw reads by offset put together are the log file.
	r1 := e.must("logs", "--raw", "--since-offset", "0", "--head", "1", "offs")
	r2 := e.must("logs", "--raw", "--since-offset", fmt.Sprint(len(r1)), "offs")
	file, err := os.ReadFile(tk.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if r1+r2 != string(file) {
		t.Fatalf("raw reads %q + %q, log file %q", r1, r2, file)
	}
	// --since reads the recent past.
	if d := logsJSON(t, e, "offs", "--since", "1h"); len(bodyLines(d.Lines)) != 2 || d.SinceExact == nil {
		t.Fatalf("--since 1h: %+v", d)
	}
}

// followProc runs bgmux logs --follow ARGS as a subprocess with a deadline
// and returns its stdout lines as they come.
type followProc struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr strings.Builder
	done   chan error
	// code is the exit status once rest has returned: the followed
	// task's status, as wait gives it.
	code int
}

func startFollow(t *testing.T, e *env, args ...string) *followProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	p := &followProc{lines: make(chan string, 1000), done: make(chan error, 1)}
	p.cmd = exec.CommandContext(ctx, bgmuxBin, append([]string{"logs", "--follow"}, args...)...)
	p.cmd.Dir, p.cmd.Env, p.cmd.Stderr = e.Dir, e.Environ(), &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- p.cmd.Wait()
	}()
	return p
}

// next returns the next line of output, failing after a deadline.
func (p *followProc) next(t *testing.T) (string, bool) {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		return l, ok
	case <-time.After(20 * time.Second):
		t.Fatalf("logs --follow printed nothing within 20s; stderr %q", p.stderr.String())
	}
	return "", false
}

func (p *followProc) rest(t *testing.T) []string {
	t.Helper()
	var out []string
	for {
		l, ok := p.next(t)
		if !ok {
			break
		}
		out = append(out, l)
	}
	if err := <-p.done; err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("logs --follow: %v; stderr %q", err, p.stderr.String())
		}
		p.code = ee.ExitCode()
	}
	return out
}

func TestLogsFollowEndsWithExitLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := newGate(t, e.Dir, "gate")
	tk := e.start("--name", "fol", "--", fmt.Sprintf("printf 'started\\n'; read x < %s; printf '\\033[1mbold\\033[0m\\n'; printf 'no newline'; exit 3", g))
	p := startFollow(t, e, "fol")
	if l, _ := p.next(t); l != "started" {
		t.Fatalf("first followed line %q", l)
	}
	g.open(t)
	rest := p.rest(t)
	if len(rest) != 3 || rest[0] != "bold" || !strings.HasPrefix(rest[1], "no newline") || !strings.HasPrefix(rest[2], "[bgmux] exited 3 after ") || p.code != 3 {
		t.Fatalf("logs --follow printed %q after the first line and exited %d; want bold, no newline, one exit line, exit status 3", rest, p.code)
	}
	if st := e.status(tk.ID); st.State != "exited" {
		t.Fatalf("task state %s", st.State)
	}
	// Following a finished task prints its log and the exit line at once.
	p = startFollow(t, e, "--json", "--tail", "2", "fol")
	objs := p.rest(t)
	if len(objs) < 2 || p.code != 3 {
		t.Fatalf("follow --json of a finished task: %q", objs)
	}
	var line struct {
		Line   *string `json:"line"`
		Offset *int64  `json:"offset"`
	}
	edgeOneJSON(t, "follow json line", objs[0], &line)
	if line.Line == nil || line.Offset == nil || *line.Offset <= 0 {
		t.Fatalf("follow --json line object %s", objs[0])
	}
	var end struct {
		End        bool  `json:"end"`
		ExitStatus int   `json:"exit_status"`
		Task       *task `json:"task"`
		EndOffset  int64 `json:"end_offset"`
	}
	edgeOneJSON(t, "follow json end", objs[len(objs)-1], &end)
	if !end.End || end.ExitStatus != 3 || end.Task == nil || end.Task.ID != tk.ID || end.Task.ExitCode == nil || *end.Task.ExitCode != 3 || end.EndOffset <= 0 {
		t.Fatalf("follow --json exit object %s", objs[len(objs)-1])
	}
}

// --follow --json streams one JSON object per line while the task runs.
func TestLogsFollowJSONLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := newGate(t, e.Dir, "gate")
	e.start("--name", "jl", "--", fmt.Sprintf("printf 'a\\n'; read x < %s; printf 'caf\\303\\251 \\377\\n'; kill -TERM $$", g))
	p := startFollow(t, e, "--json", "jl")
	first, _ := p.next(t)
	var l struct {
		Line   string `json:"line"`
		Offset int64  `json:"offset"`
	}
	edgeOneJSON(t, "first object", first, &l)
	if l.Line != "a" || l.Offset != 0 {
		t.Fatalf("first object %s", first)
	}
	g.open(t)
	objs := p.rest(t)
	var lines []string
	for _, o := range objs {
		var v map[string]any
		edgeOneJSON(t, "object", o, &v)
		if s, ok := v["line"].(string); ok {
			lines = append(lines, s)
		}
	}
	if len(lines) == 0 || lines[0] != "café \ufffd" {
		t.Fatalf("lines after the gate: %q", lines)
	}
	var end struct {
		End  bool `json:"end"`
		Task task `json:"task"`
	}
	edgeOneJSON(t, "end object", objs[len(objs)-1], &end)
	if !end.End || end.Task.State != "killed" || end.Task.Signal == nil || *end.Task.Signal != "SIGTERM" {
		t.Fatalf("exit object %s", objs[len(objs)-1])
	}
}

// Rotation's losses are always told: JSON "dropped", a first stderr line.
func TestLogsReportsDropped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "big", "--max-log-size", "64KiB", "--", `i=0; while [ $i -lt 4000 ]; do echo "line $i of a task that writes more than its log keeps"; i=$((i+1)); done`)
	e.waitState(tk.ID, 60*time.Second, func(t task) bool { return t.State == "exited" })
	d := logsJSON(t, e, "big")
	if d.Dropped <= 0 || d.StartOffset != d.Dropped || d.Size <= 64<<10 {
		t.Fatalf("rotated log: dropped %d start %d size %d (%d lines)", d.Dropped, d.StartOffset, d.Size, len(d.Lines))
	}
	body := bodyLines(d.Lines)
	if len(body) == 0 || !strings.HasPrefix(body[len(body)-1], "line 3999 ") {
		t.Fatalf("newest output missing: last lines %q", body[max(len(body)-2, 0):])
	}
	r := e.run("logs", "--tail", "1", "big")
	if r.Code != 0 || !strings.HasPrefix(r.Err, fmt.Sprintf("bgmux: the log begins at byte %d: %d bytes of older output were dropped", d.Dropped, d.Dropped)) {
		t.Fatalf("logs --tail 1: exit %d, stderr %q", r.Code, r.Err)
	}
	r = e.run("logs", "--new", "big")
	if !strings.Contains(r.Err, fmt.Sprintf("bgmux: %d bytes of output were dropped by log rotation before they were read", d.Dropped)) {
		t.Fatalf("logs --new of a rotated log: stderr %q", r.Err)
	}
}
