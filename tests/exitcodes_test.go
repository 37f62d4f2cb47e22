package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ecExit is the exit sidecar as written by the supervisor.
type ecExit struct {
	Run      int     `json:"run"`
	ExitCode *int    `json:"exit_code"`
	Signal   *string `json:"signal"`
	Error    string  `json:"error"`
}

// ecWant is the outcome a task must be reported with.
type ecWant struct {
	state  string // "exited" or "killed"
	code   int    // when exited
	signal string // when killed
}

func (w ecWant) String() string {
	if w.state == "exited" {
		return "exited " + strconv.Itoa(w.code)
	}
	return "killed by " + w.signal
}

// ecCheck fails the test unless the task object reports exactly w.
func ecCheck(t testing.TB, what string, got task, w ecWant) {
	t.Helper()
	if got.State != w.state {
		t.Fatalf("%s: state %q, want %s: %+v", what, got.State, w, got)
	}
	switch w.state {
	case "exited":
		if got.ExitCode == nil || *got.ExitCode != w.code || got.Signal != nil {
			t.Fatalf("%s: exit_code %v signal %v, want %s: %+v", what, ecInt(got.ExitCode), ecStr(got.Signal), w, got)
		}
	case "killed":
		if got.Signal == nil || *got.Signal != w.signal || got.ExitCode != nil {
			t.Fatalf("%s: exit_code %v signal %v, want %s: %+v", what, ecInt(got.ExitCode), ecStr(got.Signal), w, got)
		}
	}
}

// ecCheckSidecar fails the test unless the exit sidecar on disk records
// exactly w: the supervisor's record is the source of truth, not tmux.
func ecCheckSidecar(t testing.TB, e *env, id string, w ecWant) ecExit {
	t.Helper()
	var ex ecExit
	scReadSidecar(t, e, id, "exit", &ex)
	switch w.state {
	case "exited":
		if ex.ExitCode == nil || *ex.ExitCode != w.code || ex.Signal != nil {
			t.Fatalf("exit sidecar of %s: exit_code %v signal %v, want %s", id, ecInt(ex.ExitCode), ecStr(ex.Signal), w)
		}
	case "killed":
		if ex.Signal == nil || *ex.Signal != w.signal || ex.ExitCode != nil {
			t.Fatalf("exit sidecar of %s: exit_code %v signal %v, want %s", id, ecInt(ex.ExitCode), ecStr(ex.Signal), w)
		}
	}
	return ex
}

func ecInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func ecStr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestExitCodes checks that every way a task can end is reported exactly,
// from the exit sidecar, and that the report does not depend on tmux.
func TestExitCodes(t *testing.T) {
	cases := []struct {
		name    string
		command []string
		action  []string // bgmux command run once the task runs, e.g. stop
		want    ecWant
		logHas  []string // substrings bgmux logs must contain
		errHas  string   // a substring of the task's error
		// startStatus is start's exit status when it is not 0: a
		// program that cannot be executed fails start (127), though
		// the task is recorded.
		startStatus int
	}{
		{name: "exit0", command: []string{"exit 0"}, want: ecWant{state: "exited", code: 0}},
		{name: "exit3", command: []string{"exit 3"}, want: ecWant{state: "exited", code: 3}},
		{name: "argv-exit42", command: []string{"sh", "-c", "exit 42"}, want: ecWant{state: "exited", code: 42}},
		{name: "stop-term", command: []string{"sleep", "1000"}, action: []string{"stop"}, want: ecWant{state: "killed", signal: "SIGTERM"}},
		{name: "self-term", command: []string{"kill -TERM $$; sleep 1000"}, want: ecWant{state: "killed", signal: "SIGTERM"}},
		{name: "kill", command: []string{"sleep", "1000"}, action: []string{"kill"}, want: ecWant{state: "killed", signal: "SIGKILL"}},
		{name: "self-kill", command: []string{"kill -KILL $$; sleep 1000"}, want: ecWant{state: "killed", signal: "SIGKILL"}},
		{name: "shell-not-found", command: []string{"nosuchcmd-xyz"}, want: ecWant{state: "exited", code: 127}, logHas: []string{"nosuchcmd-xyz", "not found"}},
		{name: "argv-not-found", command: []string{"nosuchprog-xyz", "arg"}, want: ecWant{state: "exited", code: 127}, errHas: "nosuchprog-xyz", startStatus: 127},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			var tk task
			if c.startStatus != 0 {
				if r := e.run(append([]string{"start", "--name", c.name, "--"}, c.command...)...); r.Code != c.startStatus {
					t.Fatalf("start: exit %d, want %d; stderr %q", r.Code, c.startStatus, r.Err)
				}
			} else {
				tk = e.start(append([]string{"--name", c.name, "--"}, c.command...)...)
			}
			if c.action != nil {
				if tk.State != "running" || tk.PID == nil {
					t.Fatalf("before %s: state %q pid %v, want running", c.action[0], tk.State, tk.PID)
				}
				e.must(append(c.action, c.name)...)
			}
			got := e.waitFinished(c.name)
			ecCheck(t, "status", got, c.want)
			ecCheckSidecar(t, e, got.ID, c.want)
			if tk.PID != nil && !poll(10*time.Second, func() bool { return !pidAlive(*tk.PID) }) {
				t.Fatalf("pid %d still alive after the task finished", *tk.PID)
			}
			// A program that could not be run wrote nothing: why is in
			// the task's error (and its window), not in its log.
			if c.errHas != "" && !strings.Contains(got.Error, c.errHas) {
				t.Fatalf("the task's error %q does not name %q", got.Error, c.errHas)
			}
			if c.logHas != nil {
				logs := e.waitLog(c.name, c.logHas[0], 10*time.Second)
				for _, s := range c.logHas[1:] {
					if !strings.Contains(logs, s) {
						t.Fatalf("logs lack %q:\n%s", s, logs)
					}
				}
			}
			// The same answer with the tmux server gone: status reads
			// the sidecars only.
			if out, err := e.tmux("kill-server"); err != nil {
				t.Fatalf("tmux kill-server: %v\n%s", err, out)
			}
			ecCheck(t, "status without tmux", e.status(c.name), c.want)
			ecCheck(t, "status by id without tmux", e.status(got.ID), c.want)
		})
	}
}

// TestExitCodeSurvivesTmuxServerLoss kills the tmux server right after the
// task's process has exited, before anyone asked tmux anything: the exit
// code must still be reported exactly, since tmux's pane_dead_status is not
// the source of truth (and here there is no tmux to ask at all).
func TestExitCodeSurvivesTmuxServerLoss(t *testing.T) {
	e := newEnv(t)
	fifo := filepath.Join(e.Dir, "go.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tk := e.start("--name", "sevens", "--", "read x < go.fifo; exit 7")
	if tk.State != "running" || tk.PID == nil {
		t.Fatalf("just started: %+v, want running with a pid", tk)
	}
	pid := *tk.PID
	var run struct {
		SupervisorPID int `json:"supervisor_pid"`
	}
	scReadSidecar(t, e, tk.ID, "run", &run)
	if run.SupervisorPID <= 0 {
		t.Fatalf("run sidecar has no supervisor_pid")
	}

	// Release the task, and kill the server as soon as its process is gone.
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if !poll(20*time.Second, func() bool { return !pidAlive(pid) }) {
		t.Fatalf("task pid %d did not exit", pid)
	}
	if out, err := e.tmux("kill-server"); err != nil {
		t.Fatalf("tmux kill-server: %v\n%s", err, out)
	}
	if out, err := e.tmux("list-sessions"); err == nil {
		t.Fatalf("tmux server still answers after kill-server:\n%s", out)
	}

	// Wait for the supervisor to be gone, then ask once.
	if !poll(20*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatalf("supervisor %d still alive 20s after its tmux server was killed", run.SupervisorPID)
	}
	want := ecWant{state: "exited", code: 7}
	ecCheck(t, "status after the tmux server died", e.status("sevens"), want)
	ecCheckSidecar(t, e, tk.ID, want)
	e.must("logs", "sevens") // still readable
}
