package tests

import (
	"strings"
	"testing"
	"time"
)

// TestFaultTmuxServerKilledManyTasks kills the tmux server under several
// live tasks (two writing fast, one ignoring the hangup, a declared one)
// and one finished task. Since issue 13 the supervisor, not tmux, owns each
// task's terminal: every live task keeps running in the run it had, with
// its supervisor, and keeps logging without a gap; the finished task's
// records are untouched. restore then shows each live task in a new
// window and restarts nothing; up leaves the running declared task as it
// is; restart runs the never task again through its supervisor; a second
// restore changes nothing; stop records each one's exact signal.
func TestFaultTmuxServerKilledManyTasks(t *testing.T) {
	e := newEnv(t)
	e.useConfig("tasks:\n  decl:\n    command: \"echo marker-decl; exec sleep 1000\"\n    group: " + e.Group + "\n")
	done := e.start("--name", "done", "--", "echo marker-done; exit 3")
	ecCheck(t, "done", e.waitFinished("done"), ecWant{state: "exited", code: 3})
	ftSettled(t, e, done.ID)
	flood := e.start("--name", "flood", "--", ftFlood)
	floodAlw := e.start("--name", "flood-alw", "--restart", "always", "--", ftFlood)
	e.start("--name", "alw", "--restart", "always", "--", "echo marker-alw; exec sleep 1000")
	e.start("--name", "hup-alw", "--restart", "always", "--", `trap "" HUP; echo marker-hup-alw; while echo tick; do sleep 0.05; done; exit 9`)
	e.start("--name", "nev", "--", "echo marker-nev; exec sleep 1000")
	e.must("up", "decl")
	for _, n := range []string{"alw", "hup-alw", "nev", "decl"} {
		e.waitLog(n, "marker-"+n, 20*time.Second)
	}
	if !poll(30*time.Second, func() bool { return ftSize(flood.LogPath) >= 256<<10 && ftSize(floodAlw.LogPath) >= 256<<10 }) {
		t.Fatalf("the floods wrote only %d and %d bytes", ftSize(flood.LogPath), ftSize(floodAlw.LogPath))
	}
	doneDir := scTaskDir(e, done.ID)
	doneBefore := ftTree(t, doneDir)
	live := []string{"flood", "flood-alw", "alw", "hup-alw", "nev", "decl"}
	before := map[string]task{}
	for _, n := range live {
		before[n] = e.status(n)
	}
	runs := map[string]ftRunRec{}
	for _, n := range live {
		var r ftRunRec
		scReadSidecar(t, e, before[n].ID, "run", &r)
		runs[n] = r
	}

	if out, err := e.tmux("kill-server"); err != nil {
		t.Fatalf("tmux kill-server: %v\n%s", err, out)
	}
	sizes := map[string]int64{"flood": ftSize(flood.LogPath), "flood-alw": ftSize(floodAlw.LogPath), "hup-alw": ftSize(before["hup-alw"].LogPath)}
	// The tasks that write go on writing into their logs.
	if !poll(30*time.Second, func() bool {
		for n, sz := range sizes {
			if ftSize(before[n].LogPath) < sz+64<<10 && (n != "hup-alw" || ftSize(before[n].LogPath) < sz+200) {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("the tasks stopped logging after kill-server: %v, now flood %d, flood-alw %d", sizes, ftSize(flood.LogPath), ftSize(floodAlw.LogPath))
	}
	after := ftJSONTasks(t, e.must("list", "--json"))
	for _, n := range live {
		st, was := after[n], before[n]
		if st.State != "running" || st.Runs != 1 || st.PID == nil || *st.PID != *was.PID || !pidAlive(*st.PID) {
			t.Fatalf("%s after kill-server: %+v; want it running on in run 1 as pid %d", n, st, *was.PID)
		}
	}
	for _, n := range live {
		if !pidAlive(runs[n].SupervisorPID) {
			t.Fatalf("the supervisor of %s (pid %d) did not outlive the tmux server", n, runs[n].SupervisorPID)
		}
	}
	ecCheck(t, "done after kill-server", after["done"], ecWant{state: "exited", code: 3})
	if d := ftTreeDiff(doneBefore, ftTree(t, doneDir)); d != "" {
		t.Fatalf("the finished task's files changed:\n%s", d)
	}
	for _, n := range []string{"alw", "nev", "decl", "done"} {
		if logs := e.must("logs", n); strings.Count(logs, "marker-"+n) != 1 {
			t.Fatalf("log of %s lost its output:\n%s", n, logs)
		}
	}
	ftParse(t, "flood log after kill-server", ftRead(t, flood.LogPath), ftLine, ftParseOpts{first: 1})
	ftParse(t, "flood-alw log after kill-server", ftRead(t, floodAlw.LogPath), ftLine, ftParseOpts{first: 1})

	// restore: each live task is shown in a new window; nothing restarts.
	res := rsRestore(t, e)
	for _, n := range live {
		r := res[n]
		if r.Action != "ok" || r.Task.Runs != 1 || r.Task.State != "running" {
			t.Fatalf("restore, live task %s: %+v; want it left running", n, r)
		}
		out, err := e.tmux("display-message", "-p", "-t", r.Task.Tmux.Window, "#{@bgmux_id}")
		if err != nil || strings.TrimSpace(out) != r.Task.ID {
			t.Fatalf("restore, %s: its new window %q: %q %v", n, r.Task.Tmux.Window, out, err)
		}
	}
	if r := res["done"]; r.Action != "finished" {
		t.Fatalf("restore, finished task: %+v", r)
	}
	if d := ftTreeDiff(doneBefore, ftTree(t, doneDir)); d != "" {
		t.Fatalf("restore changed the finished task's files:\n%s", d)
	}
	windows := func() int {
		out, _ := e.tmux("list-windows", "-a", "-F", "#{window_id}")
		return strings.Count(out, "@")
	}
	shown := windows()
	// up keeps the running declared task as it is.
	e.must("up", "decl")
	if st := e.status("decl"); st.State != "running" || st.Runs != 1 {
		t.Fatalf("decl after up: %+v", st)
	}
	// restart runs the never task again, by its supervisor.
	var rt task
	edgeOneJSON(t, "restart --json nev", e.must("restart", "--json", "nev"), &rt)
	if rt.State != "running" || rt.Runs != 2 || rt.ID != before["nev"].ID {
		t.Fatalf("restart of nev: %+v", rt)
	}
	if !poll(20*time.Second, func() bool { return strings.Count(e.must("logs", "nev"), "marker-nev") == 2 }) {
		t.Fatalf("logs of nev after its restart:\n%s", e.must("logs", "nev"))
	}
	// A second restore changes nothing, and opens no window.
	res = rsRestore(t, e)
	for _, n := range live {
		if r := res[n]; r.Action != "ok" || r.Task.State != "running" {
			t.Fatalf("second restore, %s: %+v, want ok", n, r)
		}
	}
	if n := windows(); n != shown {
		t.Fatalf("second restore: %d windows, %d before", n, shown)
	}
	for _, n := range live {
		e.must("stop", n)
		ecCheck(t, n+" stopped", e.waitFinished(n), ecWant{state: "killed", signal: "SIGTERM"})
	}
	ecCheck(t, "done at the end", e.status("done"), ecWant{state: "exited", code: 3})
}

// ftRunRec is the part of a run record these tests read.
type ftRunRec struct {
	SupervisorPID int `json:"supervisor_pid"`
}
