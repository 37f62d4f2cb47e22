// Package tests drives the bgmux binary end to end against a private tmux
// server per test: real tmux, real processes, real files.
package tests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgmux/bgmux/internal/testbin"
)

// bgmuxBin is the binary under test, built once by TestMain.
var bgmuxBin string

func TestMain(m *testing.M) {
	testbin.Main(m, "tests", &bgmuxBin, "tmux")
}

// env is one test's isolated world: a private tmux socket, a state dir and
// a working directory, all removed (and the server killed) at cleanup.
type env struct {
	t      testing.TB
	Socket string
	State  string
	Dir    string // working directory for bgmux invocations
	Group  string // the default group of Dir
	Extra  []string
}

func randHex(n int) string { return testbin.RandHex(n) }

// newEnv sets up an isolated world for t.
func newEnv(t testing.TB) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{
		t:      t,
		Socket: "bgmux-test-" + randHex(6),
		State:  filepath.Join(root, "state"),
		Dir:    filepath.Join(root, "work"),
	}
	if err := os.MkdirAll(e.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e.Group = "work"
	t.Cleanup(func() {
		kill := exec.Command("tmux", "-L", e.Socket, "kill-server")
		kill.Env = e.Environ() // a test may point TMUX_TMPDIR elsewhere
		kill.Run()
		os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("tmux-%d", os.Getuid()), e.Socket))
		e.reap()
	})
	return e
}

// reap ends what the test's tasks left running (see testbin.Reap).
func (e *env) reap() { testbin.Reap(e.State) }

// supervisors lists live processes whose command line names this test's
// state dir.
func (e *env) supervisors() []int { return testbin.Supervisors(e.State) }

// Environ is the environment bgmux runs with in this world.
func (e *env) Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "BGMUX_SOCKET", "BGMUX_STATE_DIR", "BGMUX_CONFIG", "TMUX", "TMUX_PANE", "XDG_STATE_HOME", "XDG_CONFIG_HOME":
			continue
		}
		out = append(out, kv)
	}
	out = append(out, "BGMUX_SOCKET="+e.Socket, "BGMUX_STATE_DIR="+e.State, "XDG_CONFIG_HOME="+filepath.Join(e.State, "..", "xdg-config"))
	return append(out, e.Extra...)
}

// result is one bgmux invocation's outcome.
type result struct {
	Out, Err string
	Code     int
}

// run invokes bgmux with args in e.Dir and returns its output and exit
// status; it never fails the test by itself.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runIn(e.Dir, args...)
}

func (e *env) runIn(dir string, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(bgmuxBin, args...)
	cmd.Dir = dir
	cmd.Env = e.Environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			e.t.Fatalf("run bgmux %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{Out: out.String(), Err: errb.String(), Code: code}
}

// must runs bgmux and fails the test unless it exits 0.
func (e *env) must(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.Code != 0 {
		e.t.Fatalf("bgmux %q: exit %d\nstdout: %s\nstderr: %s", args, r.Code, r.Out, r.Err)
	}
	return r.Out
}

// task is the --json task object, decoded.
type task struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Group    string   `json:"group"`
	State    string   `json:"state"`
	ExitCode *int     `json:"exit_code"`
	Signal   *string  `json:"signal"`
	PID      *int     `json:"pid"`
	Command  *string  `json:"command"`
	Argv     []string `json:"argv"`
	Cwd      string   `json:"cwd"`
	Tags     []string `json:"tags"`
	Restart  string   `json:"restart"`
	Runs     int      `json:"runs"`
	LogPath  string   `json:"log_path"`
	Error    string   `json:"error"`
	Tmux     struct {
		Socket, Session, Window, Pane, Attach string
	} `json:"tmux"`
}

// start runs bgmux start --json with args and returns the task.
func (e *env) start(args ...string) task {
	e.t.Helper()
	out := e.must(append([]string{"start", "--json"}, args...)...)
	var tk task
	if err := json.Unmarshal([]byte(out), &tk); err != nil {
		e.t.Fatalf("start output is not a task object: %v\n%s", err, out)
	}
	return tk
}

// status returns the task object for ref.
func (e *env) status(ref string) task {
	e.t.Helper()
	out := e.must("status", "--json", ref)
	var tk task
	if err := json.Unmarshal([]byte(out), &tk); err != nil {
		e.t.Fatalf("status output is not a task object: %v\n%s", err, out)
	}
	return tk
}

// waitState polls status until cond holds or the deadline passes.
func (e *env) waitState(ref string, timeout time.Duration, cond func(task) bool) task {
	e.t.Helper()
	var last task
	ok := poll(timeout, func() bool {
		last = e.status(ref)
		return cond(last)
	})
	if !ok {
		e.t.Fatalf("task %s: condition not met within %v; last state %+v", ref, timeout, last)
	}
	return last
}

// waitFinished waits until the task is exited, killed or lost.
func (e *env) waitFinished(ref string) task {
	e.t.Helper()
	return e.waitState(ref, 20*time.Second, func(t task) bool {
		return t.State == "exited" || t.State == "killed" || t.State == "lost"
	})
}

// waitLog polls bgmux logs until it contains want.
func (e *env) waitLog(ref, want string, timeout time.Duration) string {
	e.t.Helper()
	var out string
	if !poll(timeout, func() bool {
		out = e.must("logs", ref)
		return strings.Contains(out, want)
	}) {
		e.t.Fatalf("logs of %s never contained %q within %v; got:\n%s", ref, want, timeout, out)
	}
	return out
}

// tmux runs a tmux command on the test's server.
func (e *env) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", e.Socket}, args...)...)
	cmd.Env = e.Environ()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// poll checks cond with a short backoff until it is true or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool { return testbin.Poll(timeout, cond) }

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool { return testbin.PIDAlive(pid) }

// useConfig writes yaml to a config file beside the test's state dir and
// points BGMUX_CONFIG at it for every later invocation.
func (e *env) useConfig(yaml string) string {
	e.t.Helper()
	p := filepath.Join(filepath.Dir(e.State), "config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.Extra = append(e.Extra, "BGMUX_CONFIG="+p)
	return p
}

// needRoot skips t unless it runs as root, saying why it needs root. The
// tests that call it mount file systems, change file attributes or run
// bgmux as another user; CI runs as root, so they run there.
func needRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root: %s (run the tests as root, as CI does, e.g. sudo -E go test ./tests/)", why)
	}
}
