package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lpRun is the run sidecar as written by the supervisor.
type lpRun struct {
	SupervisorPID int `json:"supervisor_pid"`
	PID           int `json:"pid"`
	PGID          int `json:"pgid"`
}

// lpReadRun reads task id's run sidecar and checks it names a supervisor
// and a child.
func lpReadRun(t testing.TB, e *env, id string) lpRun {
	t.Helper()
	var r lpRun
	scReadSidecar(t, e, id, "run", &r)
	if r.SupervisorPID <= 1 || r.PID <= 1 || r.PGID <= 1 {
		t.Fatalf("run sidecar of %s lacks pids: %+v", id, r)
	}
	return r
}

// lpGroup lists the live (non-zombie) processes in process group pgid,
// with their command names, by scanning /proc.
func lpGroup(t testing.TB, pgid int) map[int]string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("scan /proc: %v", err)
	}
	out := map[int]string{}
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || close < open {
			continue
		}
		// After the command: state ppid pgrp ...
		f := strings.Fields(string(b[close+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			out[pid] = string(b[open+1 : close])
		}
	}
	return out
}

func lpPids(m map[int]string) []int {
	var out []int
	for p := range m {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// lpCount is how many processes in m run the command name.
func lpCount(m map[int]string, name string) int {
	n := 0
	for _, c := range m {
		if c == name {
			n++
		}
	}
	return n
}

// lpKill sends sig to pid, failing the test if it cannot.
func lpKill(t testing.TB, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill %d with %v: %v", pid, sig, err)
	}
}

// TestSupervisorKilledIsLost SIGKILLs the supervisor of a running task: the
// task is lost from the very next status (never running), its log is still
// readable, and stop still ends the child it left behind.
func TestSupervisorKilledIsLost(t *testing.T) {
	cases := []struct {
		name    string
		command []string
		// orphan says the child survives its supervisor (it ignores the
		// hangup of its terminal), so stop is what must end it.
		orphan bool
	}{
		{name: "sleep", command: []string{"sleep", "1000"}},
		{name: "nohup", command: []string{`trap "" HUP; echo child-ready; exec sleep 1000`}, orphan: true},
	}
	for _, c := range cases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tk := e.start(append([]string{"--name", "victim", "--"}, c.command...)...)
			if tk.State != "running" || tk.PID == nil {
				t.Fatalf("just started: %+v, want running with a pid", tk)
			}
			if c.orphan {
				e.waitLog("victim", "child-ready", 20*time.Second)
			}
			run := lpReadRun(t, e, tk.ID)
			if run.PID != *tk.PID {
				t.Fatalf("run sidecar pid %d, task pid %d", run.PID, *tk.PID)
			}
			lpKill(t, run.SupervisorPID, syscall.SIGKILL)
			if !poll(20*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
				t.Fatalf("supervisor %d survived SIGKILL", run.SupervisorPID)
			}
			st := e.status("victim")
			if st.State != "lost" {
				t.Fatalf("first status after the supervisor died: %q, want lost: %+v", st.State, st)
			}
			if st.ExitCode != nil || st.Signal != nil {
				t.Fatalf("lost task reports an exit it never saw: %+v", st)
			}
			if _, err := os.Stat(filepath.Join(scTaskDir(e, tk.ID), "exit")); err == nil {
				t.Fatalf("an exit sidecar appeared although the supervisor was SIGKILLed")
			}
			if r := e.run("logs", "victim"); r.Code != 0 {
				t.Fatalf("logs of a lost task: exit %d\n%s%s", r.Code, r.Out, r.Err)
			}
			if c.orphan && !pidAlive(run.PID) {
				t.Fatalf("child %d died with its supervisor; the test needs it orphaned", run.PID)
			}
			// A second look must agree (lost is final without an exit record).
			if st := e.status("victim"); st.State != "lost" {
				t.Fatalf("second status: %q, want lost", st.State)
			}

			r := e.run("stop", "victim")
			if r.Code != 0 {
				t.Fatalf("stop of a lost task: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
			}
			if !poll(10*time.Second, func() bool { return !pidAlive(run.PID) && len(lpGroup(t, run.PGID)) == 0 }) {
				t.Fatalf("after stop, the orphaned child %d (group %d) is still alive: %v", run.PID, run.PGID, lpGroup(t, run.PGID))
			}
			if st := e.status("victim"); st.State != "lost" {
				t.Fatalf("after stop: %q, want still lost (nobody saw the exit)", st.State)
			}
			e.must("logs", "victim")
		})
	}
}

// TestTmuxServerKilledUnderTask kills the tmux server under a running
// task. Since issue 13 the task outlives it: its supervisor and child go on
// (the supervisor ignores its pane's hangup), status says running, and a
// second look says the same; the log stays readable and keeps growing;
// stop then records the exact signal.
func TestTmuxServerKilledUnderTask(t *testing.T) {
	e := newEnv(t)
	tk := e.start("--name", "orphan", "--", "echo started; while :; do echo tick; sleep 0.05; done")
	if tk.State != "running" || tk.PID == nil {
		t.Fatalf("just started: %+v, want running with a pid", tk)
	}
	e.waitLog("orphan", "started", 20*time.Second)
	run := lpReadRun(t, e, tk.ID)
	if out, err := e.tmux("kill-server"); err != nil {
		t.Fatalf("tmux kill-server: %v\n%s", err, out)
	}
	size := ftSize(tk.LogPath)
	if !poll(20*time.Second, func() bool { return ftSize(tk.LogPath) > size+100 }) {
		t.Fatalf("the task stopped logging when its tmux server was killed")
	}
	if !pidAlive(run.SupervisorPID) || !pidAlive(run.PID) {
		t.Fatalf("supervisor %d (alive %v) or child %d (alive %v) did not outlive the tmux server", run.SupervisorPID, pidAlive(run.SupervisorPID), run.PID, pidAlive(run.PID))
	}
	for _, look := range []string{"first", "second"} {
		if st := e.status("orphan"); st.State != "running" || st.Runs != 1 {
			t.Fatalf("%s status after the tmux server died: %+v, want running in run 1", look, st)
		}
	}
	if logs := e.must("logs", "orphan"); !strings.Contains(logs, "started") {
		t.Fatalf("log lost its content:\n%s", logs)
	}
	e.must("stop", "orphan")
	ecCheck(t, "orphan stopped", e.waitFinished("orphan"), ecWant{state: "killed", signal: "SIGTERM"})
	ecCheckSidecar(t, e, tk.ID, ecWant{state: "killed", signal: "SIGTERM"})
	if !poll(10*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatalf("supervisor %d outlived its stopped task", run.SupervisorPID)
	}
}

// TestStopLeavesNoProcess stops a shell with a background job: every
// process of the task's group must be gone afterwards.
func TestStopLeavesNoProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "pair", "--", "sleep 1000 & sleep 1000")
	if tk.State != "running" || tk.PID == nil {
		t.Fatalf("just started: %+v, want running with a pid", tk)
	}
	run := lpReadRun(t, e, tk.ID)
	var members map[int]string
	if !poll(20*time.Second, func() bool {
		members = lpGroup(t, run.PGID)
		return lpCount(members, "sleep") == 2
	}) {
		t.Fatalf("group %d never held both sleeps: %v", run.PGID, members)
	}
	pids := lpPids(members)
	e.must("stop", "pair")
	if !poll(10*time.Second, func() bool {
		for _, p := range pids {
			if pidAlive(p) {
				return false
			}
		}
		return len(lpGroup(t, run.PGID)) == 0
	}) {
		t.Fatalf("after stop, processes remain: group %d has %v (was %v)", run.PGID, lpGroup(t, run.PGID), members)
	}
	st := e.waitFinished("pair")
	if st.State != "killed" || st.Signal == nil || *st.Signal != "SIGTERM" {
		t.Fatalf("after stop: %+v, want killed by SIGTERM", st)
	}
}

// TestStopFinishedTaskIsNoop stops a task that has already exited: bgmux
// succeeds and changes nothing.
func TestStopFinishedTaskIsNoop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "done", "--", "exit 5")
	before := e.waitFinished("done")
	want := ecWant{state: "exited", code: 5}
	ecCheck(t, "before stop", before, want)
	exitPath := filepath.Join(scTaskDir(e, before.ID), "exit")
	sidecar, err := os.ReadFile(exitPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"stop", "done"}, {"kill", "done"}, {"stop", "--json", "done"}} {
		r := e.run(args...)
		if r.Code != 0 {
			t.Fatalf("bgmux %q on a finished task: exit %d\nstdout: %s\nstderr: %s", args, r.Code, r.Out, r.Err)
		}
		if args[1] == "--json" {
			ecCheck(t, "stop --json", scStrictTask(t, "stop --json", r.Out), want)
		}
	}
	after := e.status("done")
	ecCheck(t, "after stop", after, want)
	if after.Runs != before.Runs {
		t.Fatalf("runs changed from %d to %d", before.Runs, after.Runs)
	}
	now, err := os.ReadFile(exitPath)
	if err != nil || !bytes.Equal(now, sidecar) {
		t.Fatalf("exit sidecar changed by stop: %v\nbefore: %s\nafter:  %s", err, sidecar, now)
	}
}

// TestStopEscalatesToKill stops a task that ignores SIGTERM (the shell and
// its sleep child both): stop --grace 1s must SIGKILL it after about one
// second, not after the configured default grace.
func TestStopEscalatesToKill(t *testing.T) {
	e := newEnv(t)
	// A long configured grace: if --grace were ignored, stop would take it.
	e.useConfig("stop_grace: 60s\n")
	tk := e.start("--name", "stubborn", "--", `trap "" TERM; echo trapped; sleep 1000; echo after-sleep`)
	if tk.State != "running" || tk.PID == nil {
		t.Fatalf("just started: %+v, want running with a pid", tk)
	}
	e.waitLog("stubborn", "trapped", 20*time.Second)
	run := lpReadRun(t, e, tk.ID)
	var members map[int]string
	if !poll(20*time.Second, func() bool {
		members = lpGroup(t, run.PGID)
		return lpCount(members, "sleep") == 1
	}) {
		t.Fatalf("group %d never held the sleep: %v", run.PGID, members)
	}
	pids := lpPids(members)

	const grace = time.Second
	begin := time.Now()
	r := e.run("stop", "--grace", "1s", "stubborn")
	took := time.Since(begin)
	if r.Code != 0 {
		t.Fatalf("stop: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	if took < grace-100*time.Millisecond {
		t.Fatalf("stop returned after %v, before the %v grace: TERM was not ignored or grace not honoured", took, grace)
	}
	if limit := grace + 10*time.Second; took > limit {
		t.Fatalf("stop --grace 1s took %v (> %v): no timely escalation to SIGKILL", took, limit)
	}
	for _, p := range pids {
		if pidAlive(p) {
			t.Fatalf("pid %d alive after stop returned (group %v)", p, lpGroup(t, run.PGID))
		}
	}
	st := e.waitFinished("stubborn")
	if st.State != "killed" || st.Signal == nil || *st.Signal != "SIGKILL" {
		t.Fatalf("after stop --grace: %+v, want killed by SIGKILL", st)
	}
	ecCheckSidecar(t, e, tk.ID, ecWant{state: "killed", signal: "SIGKILL"})
	if logs := e.must("logs", "stubborn"); strings.Contains(logs, "after-sleep") {
		t.Fatalf("the shell went on after its sleep was killed:\n%s", logs)
	}
}

// lpZombieMaker forks a child that stays in the task's process group and
// exits at once, then moves itself to a group of its own and never reaps
// the child: the task's group keeps a zombie for as long as it runs.
const lpZombieMaker = `import os, time
child = os.fork()
if child == 0:
    os._exit(0)
os.setpgid(0, 0)
print("zombie-maker %d %d" % (os.getpid(), child), flush=True)
time.sleep(1000)
`

// TestStopIgnoresZombies stops a task whose process group holds a zombie
// nobody reaps (a container's PID 1 may never reap orphans): the group
// counts as gone once only zombies are left, so stop returns promptly
// instead of waiting out the grace period and then some.
func TestStopIgnoresZombies(t *testing.T) {
	e := newEnv(t)
	e.useConfig("stop_grace: 60s\n")
	if err := os.WriteFile(filepath.Join(e.Dir, "zombie.py"), []byte(lpZombieMaker), 0o644); err != nil {
		t.Fatal(err)
	}
	tk := e.start("--name", "zombies", "--", "python3 zombie.py & wait")
	if tk.State != "running" || tk.PID == nil {
		t.Fatalf("just started: %+v, want running with a pid", tk)
	}
	logs := e.waitLog("zombies", "zombie-maker ", 20*time.Second)
	var maker, zombie int
	for _, l := range strings.Split(logs, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "zombie-maker" {
			maker, _ = strconv.Atoi(f[1])
			zombie, _ = strconv.Atoi(f[2])
		}
	}
	if maker <= 1 || zombie <= 1 {
		t.Fatalf("cannot read the pids from the log:\n%s", logs)
	}
	t.Cleanup(func() { syscall.Kill(-maker, syscall.SIGKILL) })
	run := lpReadRun(t, e, tk.ID)
	if !poll(10*time.Second, func() bool {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(zombie) + "/stat")
		if err != nil {
			return false
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		return len(f) > 2 && f[0] == "Z" && f[2] == strconv.Itoa(run.PGID)
	}) {
		t.Fatalf("pid %d never became a zombie in the task's group %d", zombie, run.PGID)
	}

	begin := time.Now()
	e.must("stop", "zombies")
	if took := time.Since(begin); took > 15*time.Second {
		t.Fatalf("stop took %v: a zombie kept the group alive until the 60s grace", took)
	}
	st := e.waitFinished("zombies")
	if st.State != "killed" || st.Signal == nil || *st.Signal != "SIGTERM" {
		t.Fatalf("after stop: %+v, want killed by SIGTERM", st)
	}
	if live := lpGroup(t, run.PGID); len(live) != 0 {
		t.Fatalf("live processes left in the group: %v", live)
	}
}

// TestSupervisorDiedBetweenHistoryAndExit: the supervisor writes a run into
// the history before its exit record, so one killed between the two has
// recorded what it saw. status, list and wait report that exit (not lost),
// and restore writes the missing exit record from it, the run still in the
// history once.
func TestSupervisorDiedBetweenHistoryAndExit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tk := e.start("--name", "cut", "--", "echo cut-out; exit 3")
	ecCheck(t, "cut", e.waitFinished("cut"), ecWant{state: "exited", code: 3})
	ftSettled(t, e, tk.ID)
	var hist []ecExit
	scReadSidecar(t, e, tk.ID, "history", &hist)
	if len(hist) != 1 || hist[0].Run != 1 {
		t.Fatalf("history once the exit record is there: %+v, want run 1", hist)
	}
	// What a SIGKILL between the two writes leaves: the history, no exit.
	if err := os.Remove(filepath.Join(scTaskDir(e, tk.ID), "exit")); err != nil {
		t.Fatal(err)
	}
	ecCheck(t, "status", e.status("cut"), ecWant{state: "exited", code: 3})
	var listed []task
	edgeOneJSON(t, "list --json", e.must("list", "--json"), &listed)
	if len(listed) != 1 {
		t.Fatalf("list: %+v", listed)
	}
	ecCheck(t, "list", listed[0], ecWant{state: "exited", code: 3})
	if r := e.run("wait", "cut", "--timeout", "10s"); r.Code != 3 {
		t.Fatalf("wait: exit %d, want the task's 3\n%s%s", r.Code, r.Out, r.Err)
	}
	var st struct {
		History []ecExit `json:"history"`
	}
	edgeOneJSON(t, "status --json", e.must("status", "--json", "cut"), &st)
	if len(st.History) != 0 {
		t.Fatalf("status lists the current run in its history: %+v", st.History)
	}
	rsRestore(t, e)
	ecCheckSidecar(t, e, tk.ID, ecWant{state: "exited", code: 3})
	hist = nil
	scReadSidecar(t, e, tk.ID, "history", &hist)
	if len(hist) != 1 || hist[0].Run != 1 || hist[0].ExitCode == nil || *hist[0].ExitCode != 3 {
		t.Fatalf("history after restore: %+v, want run 1 once", hist)
	}
	ecCheck(t, "status after restore", e.status("cut"), ecWant{state: "exited", code: 3})
}
