package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// arRun is the run sidecar with the fields these tests check.
type arRun struct {
	Run             int    `json:"run"`
	SupervisorPID   int    `json:"supervisor_pid"`
	SupervisorStart uint64 `json:"supervisor_start"`
	PID             int    `json:"pid"`
}

// arSupervisors lists the live supervisors of task id (processes running
// bgmux __supervise for the task in the test's state dir).
func arSupervisors(e *env, id string) []int {
	var out []int
	for _, pid := range e.supervisors() {
		cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		// Not the tmux server, whose command line may name the task too.
		args := bytes.Split(cmd, []byte{0})
		if err == nil && len(args) > 2 && string(args[1]) == "__supervise" && string(args[len(args)-2]) == id {
			out = append(out, pid)
		}
	}
	return out
}

// arConsistentRunning checks that task id is reported running in run
// want (0: any run) and that the report is true: the run record names a
// live supervisor, the only one of the task, and a live child; no exit
// record claims the current run. It returns the run record.
func arConsistentRunning(t *testing.T, e *env, id string, want int, what string) arRun {
	t.Helper()
	st := rsStatus(t, e, id)
	var r arRun
	scReadSidecar(t, e, id, "run", &r)
	var ex ecExit
	exitData, _ := os.ReadFile(filepath.Join(scTaskDir(e, id), "exit"))
	if len(exitData) > 0 {
		json.Unmarshal(exitData, &ex)
	}
	if st.State != "running" || (want != 0 && st.Runs != want) || st.Runs != r.Run || st.PID == nil || *st.PID != r.PID ||
		!pidAlive(r.PID) || !pidAlive(r.SupervisorPID) || (len(exitData) > 0 && ex.Run >= r.Run) {
		t.Fatalf("%s: status %s run %d (want run %d, running) pid %v; run record %+v (child alive %v, supervisor alive %v); exit record %s",
			what, st.State, st.Runs, want, st.PID, r, pidAlive(r.PID), pidAlive(r.SupervisorPID), exitData)
	}
	var sups []int
	if !poll(5*time.Second, func() bool { sups = arSupervisors(e, id); return len(sups) == 1 }) || sups[0] != r.SupervisorPID {
		t.Fatalf("%s: live supervisors of %s: %v, want only %d (the run record's)", what, id, sups, r.SupervisorPID)
	}
	return r
}

// TestAuditConcurrentRestart runs 3 or 5 restarts of one task at once, 30
// times: every restart succeeds, each one is one new run (restarts of a
// task are serialised), and the task ends up running in the last run,
// with a live supervisor and child, every earlier run in its history as
// killed by the stop (SIGTERM), never a live run reported as ended.
func TestAuditConcurrentRestart(t *testing.T) {
	e := newEnv(t)
	for trial := 0; trial < 30; trial++ {
		n := 3 + 2*(trial%2)
		tk := e.start("--", "sleep", "1000")
		var wg sync.WaitGroup
		res := make([]result, n)
		for k := 0; k < n; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[k] = e.run("restart", tk.ID)
			}()
		}
		wg.Wait()
		for k, r := range res {
			if r.Code != 0 {
				t.Fatalf("trial %d: restart %d of %d concurrent: exit %d\n%s%s", trial, k, n, r.Code, r.Out, r.Err)
			}
		}
		what := fmt.Sprintf("trial %d, %d concurrent restarts", trial, n)
		arConsistentRunning(t, e, tk.ID, n+1, what)
		st := rsStatus(t, e, tk.ID)
		if len(st.History) != n {
			t.Fatalf("%s: history %+v, want runs 1..%d", what, st.History, n)
		}
		for i, h := range st.History {
			if h.Run != i+1 || h.Signal == nil || *h.Signal != "SIGTERM" {
				t.Fatalf("%s: history %+v, want runs 1..%d each killed by SIGTERM", what, st.History, n)
			}
		}
		e.must("stop", tk.ID)
		ecCheck(t, what+", stopped", e.waitFinished(tk.ID), ecWant{state: "killed", signal: "SIGTERM"})
	}
}

// TestAuditRespawnedSupervisorRecordsOnlyItsRun replaces the process in
// a task's pane twice in quick succession behind bgmux's back (tmux
// respawn-pane -k), with a varying delay. Since issue 13 the supervisor
// outlives its pane: the task goes on in the same run under the same
// supervisor, and each process tmux starts in the pane finds the live
// supervisor and becomes a viewer of it instead of running the task a
// second time. So the task is always reported running, in the run it
// had, with one supervisor, and the pane shows it.
func TestAuditRespawnedSupervisorRecordsOnlyItsRun(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--", "sleep", "1000")
	argv := []string{bgmuxBin, "__supervise", "--state-dir", e.State, tk.ID}
	respawn := func() {
		t.Helper()
		if out, err := e.tmux(append([]string{"respawn-pane", "-k", "-t", tk.Tmux.Pane, "--"}, argv...)...); err != nil {
			t.Fatalf("respawn-pane: %v\n%s", err, out)
		}
	}
	first := arConsistentRunning(t, e, tk.ID, 0, "before the respawns")
	for trial := 0; trial < 30; trial++ {
		respawn()
		<-time.After(time.Duration(trial%10) * 3 * time.Millisecond)
		respawn()
		what := fmt.Sprintf("trial %d (respawns %d ms apart)", trial, (trial%10)*3)
		var cmd []byte
		if !poll(10*time.Second, func() bool {
			pane, err := e.tmux("display-message", "-p", "-t", tk.Tmux.Pane, "#{pane_pid}")
			if err != nil {
				return false
			}
			cmd, _ = os.ReadFile("/proc/" + strings.TrimSpace(pane) + "/cmdline")
			return bytes.Contains(cmd, []byte("\x00__view\x00"))
		}) {
			t.Fatalf("%s: the pane does not show the task by a viewer; it runs %q", what, cmd)
		}
		r := arConsistentRunning(t, e, tk.ID, first.Run, what)
		if r.SupervisorPID != first.SupervisorPID || r.PID != first.PID {
			t.Fatalf("%s: run record %+v; want the first supervisor's run %+v going on", what, r, first)
		}
	}
}

// TestAuditRestartFullDisk restarts tasks with the state dir's file
// system full: a finished task is not run again, and restart fails as
// start does on a full disk (exit status 1, kind failed, saying the disk
// is full), changing nothing; a running task is restarted with the disk
// reserve its supervisor held, and its new run is recorded. Once there is
// room, the finished task restarts.
func TestAuditRestartFullDisk(t *testing.T) {
	needRoot(t, "it mounts a tmpfs on the state dir")
	e := newEnv(t)
	ftMount(t, e, "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", e.State)
	fill := e.start("--name", "fill1", "--", "echo fill-out; exit 3")
	ecCheck(t, "fill1", e.waitFinished("fill1"), ecWant{state: "exited", code: 3})
	ftSettled(t, e, fill.ID)
	live := e.start("--name", "live1", "--", "echo live-out; exec sleep 1000")
	e.waitLog("live1", "live-out", 10*time.Second)
	filler := filepath.Join(e.State, "filler")
	ftFill(t, filler)
	before := ftTree(t, scTaskDir(e, fill.ID))

	for _, args := range [][]string{{"restart", "fill1"}, {"restart", "--json", "fill1"}} {
		r := e.run(args...)
		if r.Code != 1 || !strings.Contains(r.Err, "full") {
			t.Fatalf("bgmux %q on a full disk: exit %d\nstdout %s\nstderr %s\nwant exit 1 saying the disk is full", args, r.Code, r.Out, r.Err)
		}
		if args[1] == "--json" {
			var doc struct {
				Error struct{ Kind, Message string } `json:"error"`
			}
			edgeOneJSON(t, "restart --json on a full disk", r.Out, &doc)
			if doc.Error.Kind != "failed" || !strings.Contains(doc.Error.Message, "full") {
				t.Fatalf("restart --json on a full disk: %+v", doc)
			}
		}
	}
	// The same as start on a full disk.
	if r := e.run("start", "--", "true"); r.Code != 1 || !strings.Contains(r.Err, "full") {
		t.Fatalf("start on a full disk: exit %d, stderr %s", r.Code, r.Err)
	}
	ecCheck(t, "fill1 after the failed restarts", e.status("fill1"), ecWant{state: "exited", code: 3})
	if st := rsStatus(t, e, "fill1"); st.Runs != 1 || len(arSupervisors(e, fill.ID)) != 0 {
		t.Fatalf("fill1 after the failed restarts: runs %d, supervisors %v", st.Runs, arSupervisors(e, fill.ID))
	}
	if d := ftTreeDiff(before, ftTree(t, scTaskDir(e, fill.ID))); d != "" {
		t.Fatalf("a failed restart changed the task's files:\n%s", d)
	}

	// A running task gives its reserve to its next run.
	e.must("restart", "live1")
	r := arConsistentRunning(t, e, live.ID, 2, "live1 restarted on a full disk")
	st := rsStatus(t, e, "live1")
	if len(st.History) != 1 || st.History[0].Signal == nil || *st.History[0].Signal != "SIGTERM" {
		t.Fatalf("live1's history after the restart on a full disk: %+v", st.History)
	}
	e.must("stop", "live1")
	ecCheck(t, "live1 stopped on a full disk", e.waitFinished("live1"), ecWant{state: "killed", signal: "SIGTERM"})
	ecCheckSidecar(t, e, live.ID, ecWant{state: "killed", signal: "SIGTERM"})
	if !poll(20*time.Second, func() bool { return !pidAlive(r.SupervisorPID) }) {
		t.Fatalf("live1's supervisor did not end")
	}

	// Room again: the finished task restarts.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	e.must("restart", "fill1")
	fin := rsWait(t, e, "fill1", 20*time.Second, "fill1's second run ends", func(x rsTask) bool { return x.State == "exited" && x.Runs == 2 })
	if fin.ExitCode == nil || *fin.ExitCode != 3 || len(fin.History) != 1 {
		t.Fatalf("fill1 after a restart with room: %+v", fin)
	}
	// fin is recorded, so the log is complete (it holds no trailer to wait for).
	if logs := e.must("logs", "fill1"); strings.Count(logs, "fill-out") != 2 {
		t.Fatalf("fill1's log, want two runs:\n%s", logs)
	}
	for _, f := range []string{"reserve", "reserve.next"} {
		if _, err := os.Stat(filepath.Join(scTaskDir(e, live.ID), f)); err == nil {
			t.Fatalf("live1 kept its %s after its supervisor ended", f)
		}
	}
}

// TestAuditExitRecordWrittenLater makes a task's directory immutable
// (chattr +i) while it runs, lets the command exit 6, then makes it
// writable again: the supervisor keeps trying, and the exit (6) is
// recorded, in the exit record and the history, instead of the task
// staying lost.
func TestAuditExitRecordWrittenLater(t *testing.T) {
	needRoot(t, "it makes the task's directory immutable with chattr +i")
	e := newEnv(t)
	gate := filepath.Join(e.Dir, "go")
	tk := e.start("--name", "imm", "--", fmt.Sprintf("echo imm-ready; while [ ! -e %s ]; do sleep 0.05; done; exit 6", gate))
	e.waitLog("imm", "imm-ready", 10*time.Second)
	dir := scTaskDir(e, tk.ID)
	chattr := func(flag string) error {
		out, err := exec.Command("chattr", flag, dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("chattr %s %s: %v\n%s", flag, dir, err, out)
		}
		return nil
	}
	if err := chattr("+i"); err != nil {
		t.Fatalf("%v(this test needs root and a file system with chattr, as /tmp on CI)", err)
	}
	t.Cleanup(func() { chattr("-i") })
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if !poll(10*time.Second, func() bool { return !pidAlive(*tk.PID) }) {
		t.Fatalf("the command did not exit")
	}
	// Long enough for the first writes to fail (the supervisor says so in
	// its pane; since issue 13 nothing of the supervisor's is logged).
	var screen result
	if !poll(10*time.Second, func() bool { screen = e.run("screen", "imm"); return strings.Contains(screen.Out, "cannot write") }) {
		t.Fatalf("the pane never said the exit record cannot be written; it shows:\n%s%s", screen.Out, screen.Err)
	}
	<-time.After(time.Second)
	if _, err := os.Stat(filepath.Join(dir, "exit")); err == nil {
		t.Fatalf("an exit record was written into an immutable directory")
	}
	if err := chattr("-i"); err != nil {
		t.Fatal(err)
	}
	fin := rsWait(t, e, "imm", 30*time.Second, "exit recorded once the directory is writable", func(x rsTask) bool { return x.State != "running" })
	ecCheck(t, "imm", fin.task, ecWant{state: "exited", code: 6})
	ecCheckSidecar(t, e, tk.ID, ecWant{state: "exited", code: 6})
	var hist []ecExit
	scReadSidecar(t, e, tk.ID, "history", &hist)
	if len(hist) != 1 || hist[0].Run != 1 || hist[0].ExitCode == nil || *hist[0].ExitCode != 6 {
		t.Fatalf("history sidecar: %+v", hist)
	}
}
