package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wtResult is the --json result of wait and start --wait-for.
type wtResult struct {
	Matched    bool     `json:"matched"`
	Timeout    bool     `json:"timeout"`
	Ended      bool     `json:"ended"`
	ExitStatus *int     `json:"exit_status"`
	Line       *string  `json:"line"`
	Offset     *int64   `json:"offset"`
	Groups     []string `json:"groups"`
	Elapsed    float64  `json:"elapsed"`
	Tail       []string `json:"tail"`
	Task       *task    `json:"task"`
}

// wtDecode decodes out as exactly one wait result.
func wtDecode(t testing.TB, what string, r result) wtResult {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.Out))
	var w wtResult
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("%s: stdout is not a JSON wait result: %v\nstdout: %s\nstderr: %s", what, err, r.Out, r.Err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: trailing data after the JSON document:\n%s", what, r.Out)
	}
	if w.Task == nil || w.Task.ID == "" {
		t.Fatalf("%s: no task object in the result:\n%s", what, r.Out)
	}
	return w
}

// wtRelease is a file a task waits for before going on: the task polls
// for it, so the test decides when the task proceeds.
func wtRelease(e *env, name string) (path, shellWait string) {
	path = filepath.Join(e.Dir, name)
	return path, "until [ -e " + name + " ]; do sleep 0.02; done"
}

func wtTouch(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// wtBackground starts bgmux with args without waiting for it; the
// returned function waits for it and returns its result.
func wtBackground(t *testing.T, e *env, args ...string) func() result {
	t.Helper()
	cmd := exec.Command(bgmuxBin, args...)
	cmd.Dir = e.Dir
	cmd.Env = e.Environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var code int
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			code = -1
		}
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	return func() result {
		t.Helper()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("bgmux %q did not return within 30s", args)
		}
		return result{Out: out.String(), Err: errb.String(), Code: code}
	}
}

// TestWaitEchoServerScenario is the echo-server scenario without any
// sleep: start waits for the port line, and wait --for sees the POSTed
// text.
func TestWaitEchoServerScenario(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src, err := os.ReadFile(filepath.Join("testdata", "echo_server.py"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(e.Dir, "echo_server.py")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run("start", "--json", "--name", "echo", "--wait-for", `Server running on port (\d+)`, "--timeout", "20s", "--", "python3", script)
	if r.Code != 0 {
		t.Fatalf("start --wait-for: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	w := wtDecode(t, "start --wait-for --json", r)
	if !w.Matched || w.Line == nil || !scPortLine.MatchString(*w.Line) || len(w.Groups) != 1 || w.Offset == nil {
		t.Fatalf("start --wait-for: %+v, want the port line with its port as a group", w)
	}
	port := w.Groups[0]
	if w.Task.State != "running" || w.Task.Name != "echo" {
		t.Fatalf("start --wait-for: task %+v, want echo running", w.Task)
	}
	// The offset is where the line starts in the log.
	logData, err := os.ReadFile(w.Task.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if *w.Offset < 0 || *w.Offset > int64(len(logData)) || !bytes.HasPrefix(logData[*w.Offset:], []byte(*w.Line)) {
		t.Fatalf("offset %d does not point at %q in the log:\n%q", *w.Offset, *w.Line, logData)
	}

	msg := "hello-bgmux-" + randHex(8)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post("http://127.0.0.1:"+port+"/", "text/plain", bytes.NewBufferString(msg))
	if err != nil {
		t.Fatalf("POST to the echo server on port %s: %v", port, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), msg) {
		t.Fatalf("POST: status %d, body %q", resp.StatusCode, body)
	}

	// The request was printed before this wait began: it still counts.
	r = e.run("wait", "echo", "--for", regexp.QuoteMeta(msg), "--timeout", "20s")
	if r.Code != 0 || r.Out != msg+"\n" {
		t.Fatalf("wait --for the posted text: exit %d, stdout %q, want %q\nstderr: %s", r.Code, r.Out, msg+"\n", r.Err)
	}
	e.must("stop", "echo")
}

// TestWaitTimeout: 124 at the timeout, neither early nor late.
func TestWaitTimeout(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "idle", "--", "sh", "-c", "echo started; exec sleep 1000")
	// What one bgmux invocation costs here, to allow for it.
	t0 := time.Now()
	e.must("status", tk.ID)
	overhead := time.Since(t0)

	const timeout = 2 * time.Second
	for _, args := range [][]string{
		{"wait", "idle", "--timeout", "2s", "--json"},
		{"wait", "idle", "--for", "never printed", "--timeout", "2s", "--json"},
	} {
		t0 := time.Now()
		r := e.run(args...)
		wall := time.Since(t0)
		if r.Code != 124 {
			t.Fatalf("%q: exit %d, want 124\nstdout: %s\nstderr: %s", args, r.Code, r.Out, r.Err)
		}
		w := wtDecode(t, strings.Join(args, " "), r)
		if !w.Timeout || w.Matched || w.Ended || w.Task.State != "running" {
			t.Fatalf("%q: %+v, want a timeout with the task running", args, w)
		}
		if !strings.Contains(r.Err, "timed out after 2s") {
			t.Fatalf("%q: stderr %q does not say it timed out", args, r.Err)
		}
		// Within 10% of the timeout, as measured by bgmux; and by the
		// wall clock, never early and late only by a process's start-up.
		elapsed := time.Duration(w.Elapsed * float64(time.Second))
		if elapsed < timeout || elapsed > timeout+timeout/10 {
			t.Fatalf("%q: waited %v by its own clock, want %v to %v", args, elapsed, timeout, timeout+timeout/10)
		}
		if wall < timeout || wall > timeout+timeout/10+2*overhead+300*time.Millisecond {
			t.Fatalf("%q: returned after %v of wall time (one bgmux call costs %v), want about %v", args, wall, overhead, timeout)
		}
	}
	// Text mode: nothing on stdout, the reason on stderr.
	r := e.run("wait", "idle", "--timeout", "0.2")
	if r.Code != 124 || r.Out != "" || !strings.Contains(r.Err, "bgmux: timed out after 200ms; task idle ("+tk.ID+") is running") {
		t.Fatalf("wait --timeout 0.2: exit %d\nstdout: %q\nstderr: %q", r.Code, r.Out, r.Err)
	}
}

// TestWaitExitStatus: wait returns the task's own status when its run
// ends while it waits, and at once for a finished task.
func TestWaitExitStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rel3, wait3 := wtRelease(e, "release3")
	rel0, wait0 := wtRelease(e, "release0")
	e.start("--name", "three", "--", "sh", "-c", wait3+"; echo bye; exit 3")
	e.start("--name", "zero", "--", "sh", "-c", wait0+"; exit 0")
	e.start("--name", "term", "--", "sleep", "1000")

	w3 := wtBackground(t, e, "wait", "three", "--timeout", "20s")
	w0 := wtBackground(t, e, "wait", "zero", "--timeout", "20s", "--json")
	wt := wtBackground(t, e, "wait", "term", "--timeout", "20s")
	wtTouch(t, rel3)
	wtTouch(t, rel0)
	e.must("stop", "term")

	if r := w3(); r.Code != 3 || !strings.Contains(r.Out, "three (") || !strings.Contains(r.Out, "exited 3") {
		t.Fatalf("wait for a task that exits 3: exit %d\nstdout: %q\nstderr: %q", r.Code, r.Out, r.Err)
	}
	r := w0()
	if r.Code != 0 {
		t.Fatalf("wait for a task that exits 0: exit %d\nstdout: %q\nstderr: %q", r.Code, r.Out, r.Err)
	}
	if w := wtDecode(t, "wait zero --json", r); !w.Ended || w.ExitStatus == nil || *w.ExitStatus != 0 || w.Task.State != "exited" {
		t.Fatalf("wait zero --json: %+v", w)
	}
	if r := wt(); r.Code != 143 || !strings.Contains(r.Out, "killed SIGTERM") {
		t.Fatalf("wait for a task stopped with SIGTERM: exit %d, want 143\nstdout: %q\nstderr: %q", r.Code, r.Out, r.Err)
	}
	// Already finished: the same answers, at once.
	for ref, want := range map[string]int{"three": 3, "zero": 0, "term": 143} {
		if r := e.run("wait", ref); r.Code != want {
			t.Fatalf("wait %s after it finished: exit %d, want %d\n%s%s", ref, r.Code, want, r.Out, r.Err)
		}
	}
}

// TestWaitForTaskEndsFirst: a task that ends before any line matches is
// reported with its status (1 in place of 0).
func TestWaitForTaskEndsFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rel, waitRel := wtRelease(e, "release")
	e.start("--name", "web", "--", "sh", "-c", "echo starting; "+waitRel+"; echo giving up; exit 3")
	e.start("--name", "ok", "--", "sh", "-c", "echo done")

	bg := wtBackground(t, e, "wait", "web", "--for", "listening on", "--timeout", "20s", "--json")
	wtTouch(t, rel)
	r := bg()
	if r.Code != 3 {
		t.Fatalf("wait --for on a task that exits 3 first: exit %d, want 3\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	w := wtDecode(t, "wait --for --json", r)
	if w.Matched || w.Timeout || !w.Ended || w.ExitStatus == nil || *w.ExitStatus != 3 || w.Task.State != "exited" || w.Line != nil {
		t.Fatalf("wait --for --json: %+v (task %+v)", w, w.Task)
	}
	if !strings.Contains(r.Err, "task web ("+w.Task.ID+") exited 3 before any line matched /listening on/") {
		t.Fatalf("stderr %q does not say the task exited first", r.Err)
	}

	e.waitFinished("ok")
	r = e.run("wait", "ok", "--for", "listening on")
	if r.Code != 1 || r.Out != "" || !strings.Contains(r.Err, "exited 0 before any line matched") {
		t.Fatalf("wait --for on a task that exited 0: exit %d, want 1\nstdout: %q\nstderr: %q", r.Code, r.Out, r.Err)
	}
	// The supervisor's trailer ("[bgmux] exited 0 after ...") is not the
	// task's output.
	if r := e.run("wait", "ok", "--for", "exited"); r.Code != 1 {
		t.Fatalf("wait --for exited matched the supervisor's trailer: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
	// A line the task printed does match after it ended.
	if r := e.run("wait", "ok", "--for", "^done$"); r.Code != 0 || r.Out != "done\n" {
		t.Fatalf("wait --for ^done$: exit %d stdout %q stderr %q", r.Code, r.Out, r.Err)
	}
}

// TestWaitForNewLines: lines printed while wait runs are seen as they
// come, cleaned of escapes; a prompt without a newline matches too.
func TestWaitForNewLines(t *testing.T) {
	e := newEnv(t)
	rel, waitRel := wtRelease(e, "release")
	e.start("--name", "app", "--", "sh", "-c", "echo booting; "+waitRel+"; printf '\\033[1;32mready\\033[0m in %sms\\r\\n' 42; printf 'Password: '; exec sleep 1000")
	bg := wtBackground(t, e, "wait", "app", "--for", `^ready in (\d+)ms$`, "--timeout", "20s", "--json")
	wtTouch(t, rel)
	r := bg()
	if r.Code != 0 {
		t.Fatalf("wait --for: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	w := wtDecode(t, "wait --for --json", r)
	if !w.Matched || w.Line == nil || *w.Line != "ready in 42ms" || len(w.Groups) != 1 || w.Groups[0] != "42" || w.Offset == nil || *w.Offset != int64(len("booting\r\n")) {
		t.Fatalf("wait --for --json: %+v", w)
	}
	if r := e.run("wait", "app", "--for", "^Password: $", "--timeout", "20s"); r.Code != 0 || r.Out != "Password: \n" {
		t.Fatalf("wait --for a prompt: exit %d stdout %q stderr %q", r.Code, r.Out, r.Err)
	}
}

// TestStartWaitFor: start + wait in one call, in text and JSON.
func TestStartWaitFor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("start", "--name", "srv", "--wait-for", `ready on (\d+)`, "--timeout", "20s", "--", "sh", "-c", "echo boot; echo ready on 8123; exec sleep 1000")
	lines := strings.Split(strings.TrimSuffix(r.Out, "\n"), "\n")
	if r.Code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "bg-") || lines[1] != "ready on 8123" {
		t.Fatalf("start --wait-for: exit %d, stdout %q (want the id, then the line)\nstderr: %s", r.Code, r.Out, r.Err)
	}
	if st := e.status(lines[0]); st.Name != "srv" || st.State != "running" {
		t.Fatalf("status of the started task: %+v", st)
	}

	// Timeout: the id on stdout, the reason and the last 20 lines on
	// stderr, 124; the task keeps running.
	r = e.run("start", "--name", "slow", "--wait-for", "never printed", "--timeout", "1s", "--", "sh", "-c", "for i in $(seq 1 30); do echo line$i; done; exec sleep 1000")
	if r.Code != 124 || !strings.HasPrefix(r.Out, "bg-") || strings.Count(r.Out, "\n") != 1 {
		t.Fatalf("start --wait-for timing out: exit %d, want 124 with the id on stdout\nstdout: %q\nstderr: %s", r.Code, r.Out, r.Err)
	}
	if !strings.Contains(r.Err, "timed out after 1s") || !strings.Contains(r.Err, "\nline11\n") || !strings.Contains(r.Err, "\nline30\n") || strings.Contains(r.Err, "line10\n") {
		t.Fatalf("start --wait-for timing out: stderr does not hold the reason and the last 20 lines:\n%s", r.Err)
	}
	if st := e.status(strings.TrimSpace(r.Out)); st.State != "running" {
		t.Fatalf("after a timed-out start --wait-for the task is %s, want running", st.State)
	}

	// Early exit, JSON: the tail is in the document, the status is the
	// task's.
	r = e.run("start", "--json", "--name", "crash", "--wait-for", "ready", "--timeout", "20s", "--", "sh", "-c", "echo config missing >&2; exit 3")
	if r.Code != 3 {
		t.Fatalf("start --wait-for on a crashing task: exit %d, want 3\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	w := wtDecode(t, "start --wait-for --json", r)
	if w.Matched || !w.Ended || w.ExitStatus == nil || *w.ExitStatus != 3 || w.Task.Name != "crash" || !strings.Contains(strings.Join(w.Tail, "\n"), "config missing") {
		t.Fatalf("start --wait-for --json on a crash: %+v", w)
	}
	if !strings.Contains(r.Err, "exited 3 before any line matched /ready/") {
		t.Fatalf("stderr %q does not say the task exited first", r.Err)
	}
}

// TestWaitBadInput: a bad regex or duration is exit status 2, and start
// creates nothing.
func TestWaitBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "t", "--", "sleep", "1000")
	for _, args := range [][]string{
		{"wait", tk.ID, "--for", "(", "--json"},
		{"wait", tk.ID, "--timeout", "soon", "--json"},
		{"wait", tk.ID, "--timeout", "0", "--json"},
		{"wait", "no-such-task", "--json"},
		{"wait", "--json"},
		{"start", "--wait-for", "(", "--timeout", "5s", "--json", "--", "true"},
		{"start", "--wait-for", "x", "--timeout", "-1s", "--json", "--", "true"},
		{"start", "--timeout", "5s", "--json", "--", "true"},
	} {
		r := e.run(args...)
		var doc struct {
			Error struct{ Kind string } `json:"error"`
		}
		if r.Code != 2 || json.Unmarshal([]byte(r.Out), &doc) != nil || doc.Error.Kind == "" || !strings.HasPrefix(r.Err, "bgmux: ") {
			t.Fatalf("%q: exit %d, want 2 with a JSON error\nstdout: %s\nstderr: %s", args, r.Code, r.Out, r.Err)
		}
		if doc.Error.Kind != "invalid_input" && doc.Error.Kind != "not_found" {
			t.Fatalf("%q: error kind %q", args, doc.Error.Kind)
		}
	}
	var all []task
	if err := json.Unmarshal([]byte(e.must("list", "--all", "--json")), &all); err != nil || len(all) != 1 {
		t.Fatalf("bad start --wait-for input created tasks: %v %+v", err, all)
	}
}

// TestTaskEnvironment: a task sees its id, name and group.
func TestTaskEnvironment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("start", "--json", "--name", "envtask", "--group", "g1", "--wait-for", "^id=", "--timeout", "20s", "--",
		`echo "id=$BGMUX_TASK_ID name=$BGMUX_TASK_NAME group=$BGMUX_GROUP"`)
	if r.Code != 0 {
		t.Fatalf("start: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
	w := wtDecode(t, "start --wait-for --json", r)
	want := "id=" + w.Task.ID + " name=envtask group=g1"
	if w.Line == nil || *w.Line != want {
		t.Fatalf("the task printed %v, want %q", w.Line, want)
	}
}

// TestWaitProgressOnTerminal: on a terminal, wait shows the time waited
// and the latest line, redrawn in place, and clears it at the end.
func TestWaitProgressOnTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rel, waitRel := wtRelease(e, "release")
	tk := e.start("--name", "busy", "--", "sh", "-c", "echo compiling-stage-one; "+waitRel+"; exit 5")
	o := txNewOuter(t)
	argv := append(txBgmuxEnv(e, false), "sh", "-c", bgmuxBin+" wait "+tk.ID+" --timeout 60s; echo wait-status:$?")
	pane := o.terminal("watch", e.Dir, argv...)
	progress := regexp.MustCompile(`⏳ (\d+\.\d)s  compiling-stage-one`)
	var screen string
	seen := map[string]bool{}
	if !poll(20*time.Second, func() bool {
		screen = o.screen(pane)
		if m := progress.FindStringSubmatch(screen); m != nil {
			seen[m[1]] = true
		}
		return len(seen) >= 2 // redrawn with a new elapsed time
	}) {
		t.Fatalf("the pane never showed a ticking progress line (seen %v); screen:\n%s", seen, screen)
	}
	wtTouch(t, rel)
	// The whole history: the pane's "Pane is dead" line may scroll the
	// first line off the visible screen.
	if !poll(20*time.Second, func() bool {
		screen, _ = o.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", pane)
		return strings.Contains(screen, "wait-status:5")
	}) {
		t.Fatalf("wait did not finish with the task's status 5; screen:\n%s", screen)
	}
	if strings.Contains(screen, "⏳") {
		t.Fatalf("the progress line was not cleared; screen:\n%s", screen)
	}
	if !strings.Contains(screen, "busy ("+tk.ID+") exited 5\nwait-status:5") {
		t.Fatalf("the pane does not show the result; screen:\n%s", screen)
	}
	// Without a terminal (the harness's pipes) nothing but the result.
	if r := e.run("wait", tk.ID); r.Code != 5 || strings.Contains(r.Err+r.Out, "⏳") || r.Err != "" {
		t.Fatalf("wait through pipes: exit %d stdout %q stderr %q", r.Code, r.Out, r.Err)
	}
}

// TestWaitLostTask: a task whose supervisor dies without an exit record
// is lost; wait notices (no file changes: its fallback poll does) and
// exits 1 with a message.
func TestWaitLostTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "victim", "--", "sleep", "1000")
	run := lpReadRun(t, e, tk.ID)
	bg := wtBackground(t, e, "wait", "victim", "--timeout", "20s")
	bgFor := wtBackground(t, e, "wait", "victim", "--for", "never", "--timeout", "20s", "--json")
	if err := syscall.Kill(run.SupervisorPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r := bg()
	if r.Code != 1 || !strings.Contains(r.Err, "task victim ("+tk.ID+") was lost") || !strings.Contains(r.Out, "lost") {
		t.Fatalf("wait on a lost task: exit %d, want 1\nstdout: %q\nstderr: %q", r.Code, r.Out, r.Err)
	}
	r = bgFor()
	w := wtDecode(t, "wait --for --json on a lost task", r)
	if r.Code != 1 || !w.Ended || w.ExitStatus == nil || *w.ExitStatus != 1 || w.Task.State != "lost" || !strings.Contains(r.Err, "was lost") {
		t.Fatalf("wait --for on a lost task: exit %d %+v\nstderr: %q", r.Code, w, r.Err)
	}
}
