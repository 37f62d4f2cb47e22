package tasks

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/proc"
)

// waitTask is a task on disk whose "supervisor" is the test process
// itself (alive, so the task is running) and whose output the test
// writes; no tmux and no child process.
type waitTask struct {
	t  *testing.T
	m  *Manager
	tk *Task
	// progress receives the latest line each time Wait reports progress.
	progress chan string
}

func newWaitTask(t *testing.T) *waitTask {
	t.Helper()
	st := OpenStore(filepath.Join(t.TempDir(), "state"))
	if err := st.Init(); err != nil {
		t.Fatal(err)
	}
	id := "bg-wait01"
	if err := os.MkdirAll(st.TaskDir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := "true"
	if err := fileutil.WriteJSON(st.Path(id, SpecFile), &Spec{ID: id, Name: "web", Group: "g", Command: &cmd, Tags: []string{}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(st.Path(id, LogFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f := &waitTask{t: t, m: &Manager{Store: st, Cwd: t.TempDir()}, progress: make(chan string, 1000)}
	f.writeRun(1, 0, os.Getpid())
	tk, err := st.load(id)
	if err != nil {
		t.Fatal(err)
	}
	f.tk = tk
	return f
}

func (f *waitTask) writeRun(run int, logOffset int64, supervisor int) {
	f.t.Helper()
	r := Run{Run: run, SupervisorPID: supervisor, SupervisorStart: proc.Start(supervisor), BootID: proc.BootID(), LogOffset: logOffset, StartedAt: time.Now()}
	if err := fileutil.WriteJSON(f.m.Store.Path("bg-wait01", RunFile), r); err != nil {
		f.t.Fatal(err)
	}
}

func (f *waitTask) write(s string) {
	f.t.Helper()
	lf, err := os.OpenFile(f.m.Store.Path("bg-wait01", LogFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	defer lf.Close()
	if _, err := lf.WriteString(s); err != nil {
		f.t.Fatal(err)
	}
}

func (f *waitTask) exit(run, code int, signal string) {
	f.t.Helper()
	ex := Exit{Run: run, EndedAt: time.Now()}
	if signal != "" {
		ex.Signal = &signal
	} else {
		ex.ExitCode = &code
	}
	if err := fileutil.WriteJSON(f.m.Store.Path("bg-wait01", ExitFile), ex); err != nil {
		f.t.Fatal(err)
	}
}

// wait runs Wait in the background; the result arrives on the channel.
func (f *waitTask) wait(opts WaitOptions) <-chan waitOut {
	ch := make(chan waitOut, 1)
	if opts.Progress == nil {
		opts.Progress = func(_ time.Duration, line string) {
			select {
			case f.progress <- line:
			default:
			}
		}
	}
	go func() {
		res, err := f.m.Wait(context.Background(), f.tk, opts)
		ch <- waitOut{res, err}
	}()
	return ch
}

type waitOut struct {
	res *WaitResult
	err error
}

// seen blocks until Wait has reported want as its latest line, so the
// test knows the waiter has read that far.
func (f *waitTask) seen(want string) {
	f.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l := <-f.progress:
			if l == want {
				return
			}
		case <-deadline:
			f.t.Fatalf("Wait never reported %q as its latest line", want)
		}
	}
}

func result(t *testing.T, ch <-chan waitOut) *WaitResult {
	t.Helper()
	select {
	case o := <-ch:
		if o.err != nil {
			t.Fatalf("Wait: %v", o.err)
		}
		return o.res
	case <-time.After(20 * time.Second):
		t.Fatal("Wait did not return")
	}
	return nil
}

func TestWaitMatchesEarlierAndLaterLines(t *testing.T) {
	f := newWaitTask(t)
	f.write("booting\n\x1b[32mready\x1b[0m on port 8080\r\n")
	res := result(t, f.wait(WaitOptions{For: regexp.MustCompile(`^ready on port (\d+)$`)}))
	if !res.Matched || res.Line != "ready on port 8080" || res.Offset != 8 || len(res.Groups) != 1 || res.Groups[0] != "8080" {
		t.Fatalf("result %+v, want the cleaned second line at offset 8 with group 8080", res)
	}
	if res.Task == nil || res.Task.ID != "bg-wait01" || res.Run != 1 {
		t.Fatalf("result task %+v run %d", res.Task, res.Run)
	}

	ch := f.wait(WaitOptions{For: regexp.MustCompile(`^request (\w+)$`)})
	f.seen("ready on port 8080")
	f.write("request abc\n")
	res = result(t, ch)
	if !res.Matched || res.Line != "request abc" || res.Offset != int64(len("booting\n\x1b[32mready\x1b[0m on port 8080\r\n")) {
		t.Fatalf("result %+v, want the new line", res)
	}
}

func TestWaitPartialLineAndSplitUTF8(t *testing.T) {
	f := newWaitTask(t)
	ch := f.wait(WaitOptions{For: regexp.MustCompile(`^port (\d+) héllo$`)})
	f.write("port 80")
	f.seen("port 80")
	// The line is not complete: "port 80" must not be taken for the port.
	f.write("80 h\xc3")
	f.seen("port 8080 h\xc3")
	f.write("\xa9llo\n")
	res := result(t, ch)
	if !res.Matched || res.Line != "port 8080 héllo" || res.Groups[0] != "8080" || res.Offset != 0 {
		t.Fatalf("result %+v, want the whole line", res)
	}
}

func TestWaitPrompt(t *testing.T) {
	f := newWaitTask(t)
	f.write("Python 3\n>>> ")
	start := time.Now()
	res := result(t, f.wait(WaitOptions{For: regexp.MustCompile(`^>>> $`)}))
	if !res.Matched || res.Line != ">>> " || res.Offset != 9 {
		t.Fatalf("result %+v, want the prompt", res)
	}
	if d := time.Since(start); d < promptIdle {
		t.Fatalf("an unfinished line matched after %v, before it was idle for %v", d, promptIdle)
	}
}

func TestWaitEndsBeforeMatch(t *testing.T) {
	f := newWaitTask(t)
	ch := f.wait(WaitOptions{For: regexp.MustCompile(`exited|never`), Tail: 2})
	f.write("one\ntwo\nlast words")
	f.seen("last words")
	// The supervisor's trailer must not count as a match.
	f.write("\n[bgmux] exited 3 after 0.1s\n")
	f.exit(1, 3, "")
	res := result(t, ch)
	if res.Matched || !res.Ended || res.Status != 3 || res.TimedOut {
		t.Fatalf("result %+v, want ended with status 3", res)
	}
	if strings.Join(res.Tail, "|") != "last words|[bgmux] exited 3 after 0.1s" {
		t.Fatalf("tail %q", res.Tail)
	}
	if res.Task.State != Exited {
		t.Fatalf("task state %s", res.Task.State)
	}
}

func TestWaitTrailerLookalikeFollowedByOutput(t *testing.T) {
	f := newWaitTask(t)
	f.write("[bgmux] exited 0 after 1s\nmore\n")
	res := result(t, f.wait(WaitOptions{For: regexp.MustCompile(`^\[bgmux\] exited`)}))
	if !res.Matched || res.Offset != 0 {
		t.Fatalf("result %+v, want the task's own line matched", res)
	}
}

func TestWaitRunEnd(t *testing.T) {
	for _, tc := range []struct {
		code   int
		signal string
		want   int
	}{{0, "", 0}, {3, "", 3}, {0, "SIGTERM", 143}, {0, "SIGINT", 130}} {
		f := newWaitTask(t)
		ch := f.wait(WaitOptions{})
		f.seen("")
		f.exit(1, tc.code, tc.signal)
		res := result(t, ch)
		if !res.Ended || res.Status != tc.want || res.Matched || res.TimedOut {
			t.Fatalf("exit %d %q: result %+v, want status %d", tc.code, tc.signal, res, tc.want)
		}
	}
}

func TestWaitLost(t *testing.T) {
	f := newWaitTask(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	f.writeRun(1, 0, dead.Process.Pid)
	res := result(t, f.wait(WaitOptions{For: regexp.MustCompile(`x`)}))
	if !res.Ended || res.Status != 1 || res.Task.State != Lost {
		t.Fatalf("result %+v (state %s), want ended lost with status 1", res, res.Task.State)
	}
}

func TestWaitNextRunIsNotOurs(t *testing.T) {
	f := newWaitTask(t)
	ch := f.wait(WaitOptions{For: regexp.MustCompile(`second`)})
	f.write("first\n")
	f.seen("first")
	// Run 1 exits 1, the restart policy starts run 2, which prints and
	// exits 5; the waiter may look at any point of this.
	code := 1
	if err := fileutil.WriteJSON(f.m.Store.Path("bg-wait01", HistoryFile), []Exit{{Run: 1, ExitCode: &code}}); err != nil {
		t.Fatal(err)
	}
	f.exit(1, 1, "")
	f.writeRun(2, 6, os.Getpid())
	f.write("second\n")
	f.exit(2, 5, "")
	res := result(t, ch)
	if res.Matched || !res.Ended || res.Status != 1 || res.Run != 1 {
		t.Fatalf("result %+v, want run 1 ended with status 1", res)
	}
}

func TestWaitTimeoutAndCancel(t *testing.T) {
	f := newWaitTask(t)
	start := time.Now()
	res := result(t, f.wait(WaitOptions{For: regexp.MustCompile(`x`), Timeout: 300 * time.Millisecond}))
	if !res.TimedOut || res.Matched || res.Ended {
		t.Fatalf("result %+v, want a timeout", res)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("timed out after %v, before the timeout", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.m.Wait(ctx, f.tk, WaitOptions{})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait ignored the cancelled context")
	}
}

func TestWaitReactsToNotifications(t *testing.T) {
	// With the fallback poll out of the picture, only a file notification
	// can make Wait see the line written after its first look.
	f := newWaitTask(t)
	stepped := make(chan struct{}, 100)
	ch := f.wait(WaitOptions{For: regexp.MustCompile(`^go$`), poll: time.Hour, stepped: func() {
		select {
		case stepped <- struct{}{}:
		default:
		}
	}})
	select {
	case <-stepped:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait never took its first look")
	}
	f.write("go\n")
	res := result(t, ch)
	if !res.Matched {
		t.Fatalf("result %+v", res)
	}
}

func TestWaitLongBacklog(t *testing.T) {
	// More than one step's worth of output before the matching line; the
	// run ends right after it, and the match still wins.
	f := newWaitTask(t)
	line := strings.Repeat("x", 99) + "\n"
	backlog := strings.Repeat(line, (waitChunk*waitChunksPerStep+waitChunk)/len(line))
	f.write(backlog + "needle 7\ntail\n")
	f.exit(1, 0, "")
	res := result(t, f.wait(WaitOptions{For: regexp.MustCompile(`^needle (\d)$`)}))
	if !res.Matched || res.Offset != int64(len(backlog)) || res.Groups[0] != "7" {
		t.Fatalf("result %+v, want the needle at offset %d", res, len(backlog))
	}
	res = result(t, f.wait(WaitOptions{For: regexp.MustCompile(`^nothing$`), Tail: 2}))
	if !res.Ended || strings.Join(res.Tail, "|") != "needle 7|tail" {
		t.Fatalf("result %+v, want ended with the last lines", res)
	}
}
