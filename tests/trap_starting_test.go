package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lineMCP is a `bgmux mcp` spoken to line by line, so that a test can put
// several requests in flight at once, as clients that run one turn's tool
// calls in parallel do.
type lineMCP struct {
	t      *testing.T
	stdin  io.WriteCloser
	lines  chan map[string]any
	stderr *lockedBuffer
}

func lineMCPStart(t *testing.T, e *env) *lineMCP {
	t.Helper()
	cmd := exec.Command(bgmuxBin, "mcp")
	r := &lineMCP{t: t, lines: make(chan map[string]any, 100), stderr: &lockedBuffer{}}
	cmd.Dir, cmd.Env, cmd.Stderr = e.Dir, e.Environ(), r.stderr
	var err error
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				r.lines <- m
			}
		}
		close(r.lines)
	}()
	r.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	r.reply(1, 30*time.Second)
	r.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	return r
}

// send writes one or more messages in one write.
func (r *lineMCP) send(msgs ...string) {
	var b []byte
	for _, m := range msgs {
		b = append(append(b, m...), '\n')
	}
	if _, err := r.stdin.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// reply reads until the response with id; nil when timeout passes first.
func (r *lineMCP) reply(id int, timeout time.Duration) map[string]any {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-r.lines:
			if !ok {
				r.t.Fatalf("bgmux mcp closed stdout before reply %d; stderr: %s", id, r.stderr.String())
			}
			if m["id"] == float64(id) {
				return m
			}
		case <-deadline:
			return nil
		}
	}
}

// TestTrapStatusWhileStarting: get_task sent right after start_task, and
// run while the start is still in progress (held here at the store lock,
// as a busy store or a slow disk would), answers with the task being
// started, not `no task`.
func TestTrapStatusWhileStarting(t *testing.T) {
	e := newEnv(t)
	if err := os.MkdirAll(e.State, 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(e.State, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	c := lineMCPStart(t, e)
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	held := true
	release := func() {
		if held {
			unix.Flock(int(lock.Fd()), unix.LOCK_UN)
			held = false
		}
	}
	defer release()
	c.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"start_task","arguments":{"name":"echo_server","command":"echo up; sleep 30"}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_task","arguments":{"task":"echo_server"}}}`)
	// The start cannot get past the lock: an answer now is about a start
	// still in progress. Let it go on after a moment either way.
	got := c.reply(3, 1500*time.Millisecond)
	release()
	if got == nil {
		got = c.reply(3, 30*time.Second)
	}
	if c.reply(2, 30*time.Second) == nil {
		t.Fatalf("start_task did not answer; stderr: %s", c.stderr.String())
	}
	res, _ := got["result"].(map[string]any)
	if res == nil || res["isError"] == true {
		t.Fatalf("get_task while echo_server was starting: %v, want the task (starting or running)", got)
	}
	sc, _ := res["structuredContent"].(map[string]any)
	if sc["name"] != "echo_server" || (sc["state"] != "starting" && sc["state"] != "running") {
		t.Fatalf("get_task while echo_server was starting gave %v, want the task starting or running", sc)
	}
	// Before its window is recorded, the task names no window: a target
	// by name could open an older window of that name (issue 12, item 6).
	if tm, _ := sc["tmux"].(map[string]any); sc["state"] == "starting" && (tm["window"] != "" || tm["attach"] != "bgmux attach "+fmt.Sprint(sc["id"])) {
		t.Fatalf("get_task while echo_server was starting gave tmux %v; want no window and attach by bgmux attach ID", tm)
	}
	e.must("kill", "echo_server")
}
