package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rsTask is the task object with the restart fields.
type rsTask struct {
	task
	Restarts      int        `json:"restarts"`
	NextRestartAt *time.Time `json:"next_restart_at"`
	History       []struct {
		Run      int     `json:"run"`
		ExitCode *int    `json:"exit_code"`
		Signal   *string `json:"signal"`
	} `json:"history"`
}

func rsStatus(t *testing.T, e *env, ref string) rsTask {
	t.Helper()
	var tk rsTask
	out := e.must("status", "--json", ref)
	if err := json.Unmarshal([]byte(out), &tk); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return tk
}

func rsWait(t *testing.T, e *env, ref string, timeout time.Duration, what string, cond func(rsTask) bool) rsTask {
	t.Helper()
	var last rsTask
	if !poll(timeout, func() bool { last = rsStatus(t, e, ref); return cond(last) }) {
		t.Fatalf("%s: not reached within %v; last %+v", what, timeout, last)
	}
	return last
}

// TestRestartCommand: same id, next run number, the previous exit kept in
// the history, the same window; a running task is stopped first.
func TestRestartCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "flaky", "--", "sh", "-c", "echo run-of-$BGMUX_TASK_ID; exit 3")
	e.waitFinished("flaky")
	out := e.must("restart", "--json", "flaky")
	var re rsTask
	if err := json.Unmarshal([]byte(out), &re); err != nil {
		t.Fatalf("restart --json: %v\n%s", err, out)
	}
	if re.ID != tk.ID || re.Runs != 2 {
		t.Fatalf("after restart: id %s runs %d, want %s and 2", re.ID, re.Runs, tk.ID)
	}
	fin := rsWait(t, e, "flaky", 20*time.Second, "second run ends", func(x rsTask) bool { return x.State == "exited" && x.Runs == 2 })
	if fin.ExitCode == nil || *fin.ExitCode != 3 || len(fin.History) != 1 || fin.History[0].Run != 1 || fin.History[0].ExitCode == nil || *fin.History[0].ExitCode != 3 {
		t.Fatalf("history after two runs: %+v", fin)
	}
	if fin.Tmux.Window != tk.Tmux.Window {
		t.Fatalf("restart moved the task from window %s to %s", tk.Tmux.Window, fin.Tmux.Window)
	}
	// The run is over (fin): its output is all in the log, which holds no
	// supervisor trailer to wait for.
	logs := e.must("logs", "flaky")
	if n := strings.Count(logs, "run-of-"+tk.ID); n != 2 {
		t.Fatalf("log has %d runs' output, want 2:\n%s", n, logs)
	}
	if !scWindowExists(t, e, tk.Tmux.Window) {
		t.Fatal("window gone after restart")
	}

	// A running task is stopped (SIGTERM) and started again.
	long := e.start("--name", "long", "--", "sleep", "1000")
	re2 := rsStatus(t, e, "long")
	e.must("restart", "long")
	got := rsStatus(t, e, "long")
	if got.State != "running" || got.Runs != 2 || got.PID == nil || *got.PID == *long.PID {
		t.Fatalf("restart of a running task: %+v (before: %+v)", got, re2)
	}
	if pidAlive(*long.PID) {
		t.Fatalf("the first run's process %d survived the restart", *long.PID)
	}
	if len(got.History) != 1 || got.History[0].Signal == nil || *got.History[0].Signal != "SIGTERM" {
		t.Fatalf("history should record the first run killed by SIGTERM: %+v", got.History)
	}
}

// TestRestartPolicyOnFailure: a failing task is restarted with backoff
// until max-restarts, then stays exited; a succeeding one is not.
func TestRestartPolicyOnFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "crashy", "--restart", "on-failure", "--max-restarts", "2", "--", "sh", "-c", "echo attempt; exit 1")
	// Backoff 1s then 2s: the third run ends about 3s in.
	fin := rsWait(t, e, "crashy", 30*time.Second, "three runs", func(x rsTask) bool {
		return x.Runs == 3 && x.State == "exited" && x.NextRestartAt == nil
	})
	if fin.Restarts != 2 || fin.ExitCode == nil || *fin.ExitCode != 1 || len(fin.History) != 2 {
		t.Fatalf("after max-restarts: %+v", fin)
	}
	if n := strings.Count(e.must("logs", "crashy"), "attempt"); n != 3 {
		t.Fatalf("log shows %d attempts, want 3", n)
	}
	// The supervisor is done: no fourth run comes.
	var r lpRun
	scReadSidecar(t, e, fin.ID, "run", &r)
	if !poll(10*time.Second, func() bool { return !pidAlive(r.SupervisorPID) }) {
		t.Fatal("supervisor still alive after the last allowed restart")
	}
	if again := rsStatus(t, e, "crashy"); again.Runs != 3 {
		t.Fatalf("runs went on to %d", again.Runs)
	}

	e.start("--name", "fine", "--restart", "on-failure", "--", "true")
	ok := e.waitFinished("fine")
	var r2 lpRun
	scReadSidecar(t, e, ok.ID, "run", &r2)
	if !poll(10*time.Second, func() bool { return !pidAlive(r2.SupervisorPID) }) {
		t.Fatal("supervisor of a successful on-failure task did not end")
	}
	if x := rsStatus(t, e, "fine"); x.Runs != 1 || x.NextRestartAt != nil {
		t.Fatalf("on-failure restarted a successful task: %+v", x)
	}
}

// TestRestartAlwaysStopEndsPolicy: status shows the pending restart;
// stop, between runs or during one, ends the policy for good.
func TestRestartAlwaysStopEndsPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "loop", "--restart", "always", "--", "sh", "-c", "echo tick")
	pending := rsWait(t, e, "loop", 20*time.Second, "a pending restart", func(x rsTask) bool { return x.NextRestartAt != nil })
	if pending.State != "exited" || pending.ExitCode == nil || *pending.ExitCode != 0 {
		t.Fatalf("between runs: %+v", pending)
	}
	// A task waiting to restart is live: prune keeps it, rm refuses it.
	e.must("prune")
	if r := e.run("rm", "loop"); r.Code != 1 || !strings.Contains(r.Err, "restart") {
		t.Fatalf("rm of a task waiting to restart: exit %d %s", r.Code, r.Err)
	}
	if _, err := os.Stat(filepath.Join(e.State, "tasks", pending.ID)); err != nil {
		t.Fatalf("prune or rm removed a task waiting to restart: %v", err)
	}
	e.must("stop", "loop")
	var r lpRun
	scReadSidecar(t, e, pending.ID, "run", &r)
	if !poll(10*time.Second, func() bool { return !pidAlive(r.SupervisorPID) }) {
		t.Fatal("stop between runs left the supervisor waiting")
	}
	after := rsStatus(t, e, "loop")
	if after.NextRestartAt != nil || after.Runs != pending.Runs {
		t.Fatalf("after stop: %+v (before %+v)", after, pending)
	}

	e.start("--name", "daemon", "--restart", "always", "--", "sleep", "1000")
	e.must("stop", "daemon")
	d := rsStatus(t, e, "daemon")
	if d.State != "killed" || d.Signal == nil || *d.Signal != "SIGTERM" || d.NextRestartAt != nil {
		t.Fatalf("stop of an always task: %+v", d)
	}
	var rd lpRun
	scReadSidecar(t, e, d.ID, "run", &rd)
	if !poll(10*time.Second, func() bool { return !pidAlive(rd.SupervisorPID) }) {
		t.Fatal("supervisor did not end after stop")
	}
	if x := rsStatus(t, e, "daemon"); x.Runs != 1 || x.State != "killed" {
		t.Fatalf("stopped always-task came back: %+v", x)
	}
}

// TestStartReuse: --reuse returns the running task instead of a second one.
func TestStartReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.start("--name", "web", "--", "sleep", "1000")
	again := e.start("--name", "web", "--reuse", "--", "sleep", "1000")
	if again.ID != first.ID {
		t.Fatalf("--reuse started %s instead of returning %s", again.ID, first.ID)
	}
	r := e.run("start", "--name", "web", "--", "sleep", "1000")
	if r.Code != 1 || !strings.Contains(r.Err, "--reuse") {
		t.Fatalf("second start without --reuse: exit %d %s", r.Code, r.Err)
	}
	if r := e.run("start", "--reuse", "--", "true"); r.Code != 2 {
		t.Fatalf("--reuse without --name: exit %d, want 2", r.Code)
	}
	ents, _ := os.ReadDir(filepath.Join(e.State, "tasks"))
	if len(ents) != 1 {
		t.Fatalf("%d task dirs, want 1", len(ents))
	}
}

// TestLogRotation: 200 MB of output with max_log_size 8 MiB leaves at most
// 16 MiB on disk, with the newest output intact.
func TestLogRotation(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--max-log-size", "8MiB", "--", "seq", "1", "25000000")
	e.waitState(tk.ID, 120*time.Second, func(x task) bool { return x.State == "exited" })
	dir := filepath.Join(e.State, "tasks", tk.ID)
	var total int64
	for _, f := range []string{"output.log", "output.log.1"} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if st.Size() > 8<<20 {
			t.Fatalf("%s is %d bytes, over the 8 MiB limit", f, st.Size())
		}
		total += st.Size()
	}
	if total > 16<<20 {
		t.Fatalf("%d bytes on disk, want at most 16 MiB", total)
	}
	tail := e.must("logs", "--tail", "5000", tk.ID)
	var nums []int
	for _, l := range strings.Split(tail, "\n") {
		if n, err := strconv.Atoi(l); err == nil {
			nums = append(nums, n)
		}
	}
	if len(nums) < 4000 || nums[len(nums)-1] != 25000000 {
		t.Fatalf("newest output not intact: %d numbers, last %v", len(nums), nums[len(nums)-1:])
	}
	for i := 1; i < len(nums); i++ {
		if nums[i] != nums[i-1]+1 {
			t.Fatalf("gap in the newest output: %d then %d", nums[i-1], nums[i])
		}
	}
	var meta struct {
		Base     int64 `json:"base"`
		PrevBase int64 `json:"prev_base"`
	}
	scReadSidecar(t, e, tk.ID, "logmeta", &meta)
	if meta.PrevBase < 150<<20 {
		t.Fatalf("logmeta says only %d bytes were dropped of ~238 MB", meta.PrevBase)
	}
	// logs reports the dropped size: in JSON, and as a note on stderr. It
	// counts the rest of a line the rotation cut ("12345678\r\n" at most).
	var lj struct {
		Dropped int64 `json:"dropped"`
	}
	if err := json.Unmarshal([]byte(e.must("logs", "--json", "--tail", "1", tk.ID)), &lj); err != nil || lj.Dropped < meta.PrevBase || lj.Dropped > meta.PrevBase+10 {
		t.Fatalf("logs --json dropped = %d (%v), want %d or the end of the line there", lj.Dropped, err, meta.PrevBase)
	}
	if r := e.run("logs", "--tail", "1", tk.ID); !strings.Contains(r.Err, strconv.FormatInt(lj.Dropped, 10)) || !strings.Contains(r.Err, "dropped") {
		t.Fatalf("logs does not say what rotation dropped: stderr %q", r.Err)
	}
}

// TestConfigShell: the shell key chooses what runs a one-string command.
func TestConfigShell(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.useConfig("shell: /bin/bash\n")
	e.start("--name", "b", "--", "echo shell-is-${BASH_VERSION:+bash}")
	e.waitLog("b", "shell-is-bash", 10*time.Second)
}
