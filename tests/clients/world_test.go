//go:build clients

package clients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bgmux/bgmux/internal/testbin"
)

// world is one test's private everything: a tmux socket (in a private
// TMUX_TMPDIR), a bgmux state dir, a HOME and XDG dirs for the client, a
// project directory to run it in, and a log dir. Cleanup kills the tmux
// server and what the tasks left, and removes it all; the logs are kept
// (and their path logged) when the test failed or BGMUX_TEST_KEEP_LOGS is
// set.
type world struct {
	t      testing.TB
	Root   string
	Home   string
	Work   string // the project directory the client runs in
	State  string // BGMUX_STATE_DIR
	Socket string // BGMUX_SOCKET
	Tmux   string // TMUX_TMPDIR
	Logs   string
	Tmp    string // TMPDIR: what the clients leave in it goes with the world
}

func randHex(n int) string { return testbin.RandHex(n) }

func newWorld(t testing.TB) *world {
	t.Helper()
	// Short paths: the tmux socket lives under Root and a unix socket
	// path is at most 107 bytes.
	root, err := os.MkdirTemp("", "bgc-")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{
		t: t, Root: root,
		Home:   filepath.Join(root, "home"),
		Work:   filepath.Join(root, "work"),
		State:  filepath.Join(root, "state"),
		Socket: "bgmux-test-" + randHex(6),
		Tmux:   filepath.Join(root, "tmux"),
		Logs:   filepath.Join(root, "logs"),
		Tmp:    filepath.Join(root, "tmp"),
	}
	for _, d := range []string{w.Home, w.Work, w.Tmux, w.Logs, w.Tmp,
		filepath.Join(w.Home, ".config"), filepath.Join(w.Home, ".local", "share"),
		filepath.Join(w.Home, ".local", "state"), filepath.Join(w.Home, ".cache")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(w.cleanup)
	return w
}

func (w *world) cleanup() {
	kill := exec.Command("tmux", "-L", w.Socket, "kill-server")
	kill.Env = w.bgmuxEnviron()
	kill.Run()
	w.reap()
	if w.t.Failed() || os.Getenv("BGMUX_TEST_KEEP_LOGS") != "" {
		keep, err := os.MkdirTemp("", "bgmux-clients-logs-")
		if err == nil && os.Rename(w.Logs, filepath.Join(keep, "logs")) == nil {
			w.t.Logf("logs kept in %s", filepath.Join(keep, "logs"))
		}
	}
	os.RemoveAll(w.Root)
}

// reap ends what the test's tasks left running (see testbin.Reap).
func (w *world) reap() { testbin.Reap(w.State) }

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool { return testbin.PIDAlive(pid) }

// poll checks cond with a short backoff until it is true or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool { return testbin.Poll(timeout, cond) }

// mcpEnv is the environment the MCP server gets through the client's MCP
// config: this world's socket and state dir.
func (w *world) mcpEnv() map[string]string {
	return map[string]string{"BGMUX_SOCKET": w.Socket, "BGMUX_STATE_DIR": w.State}
}

// MCPLog is the file the MCP tap logs the client's MCP traffic to.
func (w *world) MCPLog() string { return filepath.Join(w.Logs, "mcp.jsonl") }

// mcpCommand is the command line and environment a client's MCP config
// gives for the bgmux server: this test binary as the tap (see
// tap_test.go) in front of the real `bgmux mcp`, with mcpEnv.
func (w *world) mcpCommand() ([]string, map[string]string) {
	self, err := os.Executable()
	if err != nil {
		w.t.Fatal(err)
	}
	env := w.mcpEnv()
	env[tapLogEnv] = w.MCPLog()
	env[tapBinEnv] = bgmuxBin
	return []string{self}, env
}

// clientEnviron is the environment a client runs with: a private HOME and
// XDG dirs, a private TMPDIR and TMUX_TMPDIR (so even a server that lost its
// BGMUX_SOCKET could not reach a shared tmux), PATH, and extra. Nothing
// else of the caller's environment (no BGMUX_*, no TMUX, no API keys).
func (w *world) clientEnviron(extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + w.Home,
		"USER=" + os.Getenv("USER"),
		"LANG=C.UTF-8",
		"TERM=dumb",
		"NO_COLOR=1",
		"TMPDIR=" + w.Tmp,
		"TMUX_TMPDIR=" + w.Tmux,
		"XDG_CONFIG_HOME=" + filepath.Join(w.Home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(w.Home, ".local", "share"),
		"XDG_STATE_HOME=" + filepath.Join(w.Home, ".local", "state"),
		"XDG_CACHE_HOME=" + filepath.Join(w.Home, ".cache"),
	}
	return append(env, extra...)
}

// bgmuxEnviron is the environment of the test's own bgmux invocations.
func (w *world) bgmuxEnviron() []string {
	env := w.clientEnviron()
	for k, v := range w.mcpEnv() {
		env = append(env, k+"="+v)
	}
	return env
}

// bgmux runs the real bgmux CLI in this world and returns its stdout,
// failing the test unless it exits 0.
func (w *world) bgmux(args ...string) string {
	w.t.Helper()
	cmd := exec.Command(bgmuxBin, args...)
	cmd.Dir = w.Work
	cmd.Env = w.bgmuxEnviron()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		w.t.Fatalf("bgmux %q: %v\nstdout: %s\nstderr: %s", args, err, out.String(), errb.String())
	}
	return out.String()
}

// writeFile writes content to path, failing the test on error.
func (w *world) writeFile(path string, content []byte) {
	w.t.Helper()
	if err := os.WriteFile(path, content, 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// clientRun is one finished client run.
type clientRun struct {
	Stdout, Stderr string
	Err            error
	Elapsed        time.Duration
}

// clientProc is a client started by startClient, running in its own
// process group, with its stdout and stderr going to NAME.stdout and
// NAME.stderr in the world's log dir (readable while it runs).
type clientProc struct {
	w       *world
	name    string
	cmd     *exec.Cmd
	ctx     context.Context
	cancel  context.CancelFunc
	timeout time.Duration
	begin   time.Time
	done    chan struct{}
	err     error
	stopped atomic.Bool // Stop was called: its kill is no failure
	// StdoutPath and StderrPath are the files its output goes to.
	StdoutPath, StderrPath string
}

// startClient starts bin with args in the world's project dir, with env
// and no standard input, in its own process group. It is killed, the
// whole group, when timeout passes, at Stop, and at the end of the test.
// A headless run is startClient then Wait (see runClient); a server
// (opencode serve) is startClient, talk to it, Stop.
func (w *world) startClient(name string, timeout time.Duration, bin string, args []string, env []string) *clientProc {
	w.t.Helper()
	p := &clientProc{w: w, name: name, timeout: timeout, done: make(chan struct{}),
		StdoutPath: filepath.Join(w.Logs, name+".stdout"), StderrPath: filepath.Join(w.Logs, name+".stderr")}
	p.ctx, p.cancel = context.WithTimeout(context.Background(), timeout)
	stdout, err := os.Create(p.StdoutPath)
	if err != nil {
		w.t.Fatal(err)
	}
	stderr, err := os.Create(p.StderrPath)
	if err != nil {
		w.t.Fatal(err)
	}
	cmd := exec.CommandContext(p.ctx, bin, args...)
	cmd.Dir = w.Work
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	p.cmd = cmd
	p.begin = time.Now()
	if err := cmd.Start(); err != nil {
		stdout.Close()
		stderr.Close()
		p.cancel()
		w.t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever it left behind
		stdout.Close()
		stderr.Close()
		close(p.done)
	}()
	w.t.Cleanup(func() { p.Stop() })
	return p
}

// Wait waits for the client to end (or its timeout, or Stop, to kill it)
// and returns the run; a kill by Stop is no error.
func (p *clientProc) Wait() clientRun {
	<-p.done
	r := clientRun{Err: p.err, Elapsed: time.Since(p.begin)}
	if p.stopped.Load() {
		r.Err = nil
	} else if p.ctx.Err() == context.DeadlineExceeded {
		r.Err = fmt.Errorf("%s did not finish within %v (killed): %w", p.name, p.timeout, errors.Join(p.err, p.ctx.Err()))
	}
	p.cancel()
	out, _ := os.ReadFile(p.StdoutPath)
	errb, _ := os.ReadFile(p.StderrPath)
	r.Stdout, r.Stderr = string(out), string(errb)
	p.w.t.Logf("%s ran %v (err %v)", p.name, r.Elapsed.Round(time.Millisecond), r.Err)
	return r
}

// Stop kills the client's whole process group and waits for it.
func (p *clientProc) Stop() {
	select {
	case <-p.done:
	default:
		p.stopped.Store(true)
	}
	p.cancel()
	<-p.done
}

// runClient runs bin headless: startClient, then Wait.
func (w *world) runClient(name string, timeout time.Duration, bin string, args []string, env []string) clientRun {
	w.t.Helper()
	return w.startClient(name, timeout, bin, args, env).Wait()
}
