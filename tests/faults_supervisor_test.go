package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultSupervisorKilledMidWrite SIGKILLs the supervisor of a task
// that writes as fast as it can, beside two tasks that keep writing in
// the same group: the task is lost at once (no exit code made up), its
// log is a clean prefix of what it wrote, the neighbours run and log on
// untouched, and restart brings it back as run 2 after the old output.
func TestFaultSupervisorKilledMidWrite(t *testing.T) {
	e := newEnv(t)
	victim := e.start("--name", "victim", "--", ftFlood)
	nbA := e.start("--name", "tick-a", "--", ftTicker)
	nbB := e.start("--name", "tick-b", "--", ftTicker)
	for _, tk := range []task{victim, nbA, nbB} {
		if tk.State != "running" || tk.PID == nil {
			t.Fatalf("just started: %+v, want running with a pid", tk)
		}
	}
	// Kill in the middle of heavy writing.
	if !poll(30*time.Second, func() bool { return ftSize(victim.LogPath) >= 512<<10 }) {
		t.Fatalf("the flood wrote only %d bytes in 30s", ftSize(victim.LogPath))
	}
	e.waitLog("tick-a", "tick 3\n", 20*time.Second)
	e.waitLog("tick-b", "tick 3\n", 20*time.Second)
	run := lpReadRun(t, e, victim.ID)
	lpKill(t, run.SupervisorPID, syscall.SIGKILL)
	if !poll(20*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatalf("supervisor %d survived SIGKILL", run.SupervisorPID)
	}
	sizeA, sizeB := ftSize(nbA.LogPath), ftSize(nbB.LogPath)

	// Only the supervisor writes the log: it is final now.
	cut := ftRead(t, victim.LogPath)
	got := ftParse(t, "log cut by SIGKILL", cut, ftLine, ftParseOpts{first: 1})
	if got.lines < 1000 {
		t.Fatalf("the log holds %d lines; the flood was killed too early to test a cut", got.lines)
	}
	t.Logf("log cut after line %d (%d bytes), unfinished %q", got.last, len(cut), got.partial)

	st := e.status("victim")
	if st.State != "lost" || st.ExitCode != nil || st.Signal != nil {
		t.Fatalf("status after the supervisor died: %+v, want lost with no exit code or signal", st)
	}
	if _, err := os.Stat(filepath.Join(scTaskDir(e, victim.ID), "exit")); err == nil {
		t.Fatalf("an exit sidecar appeared although nobody saw the task end")
	}
	if r := e.run("logs", "victim", "--tail", "1"); r.Code != 0 || (got.partial == "" && strings.TrimSpace(r.Out) != ftLine(got.last)) {
		t.Fatalf("logs --tail 1 of the lost task: exit %d, %q (last whole line %d)\n%s", r.Code, r.Out, got.last, r.Err)
	}
	// The whole group, at one look: the victim lost, the others running.
	all := ftJSONTasks(t, e.must("list", "--json"))
	if len(all) != 3 || all["victim"].State != "lost" || all["tick-a"].State != "running" || all["tick-b"].State != "running" {
		t.Fatalf("list after the kill: %+v", all)
	}
	// The neighbours keep running and logging, each its own clean record.
	if !poll(20*time.Second, func() bool {
		return ftSize(nbA.LogPath) >= sizeA+40 && ftSize(nbB.LogPath) >= sizeB+40
	}) {
		t.Fatalf("a neighbour stopped logging after the kill: %d -> %d, %d -> %d", sizeA, ftSize(nbA.LogPath), sizeB, ftSize(nbB.LogPath))
	}
	for _, nb := range []task{nbA, nbB} {
		if st := e.status(nb.Name); st.State != "running" || st.PID == nil || *st.PID != *nb.PID {
			t.Fatalf("neighbour %s after the kill: %+v", nb.Name, st)
		}
		ftParse(t, nb.Name+" log", ftRead(t, nb.LogPath), ftTick, ftParseOpts{first: 1})
	}

	// restart brings the lost task back as run 2, after the old output.
	var rt task
	edgeOneJSON(t, "restart --json", e.must("restart", "--json", "victim"), &rt)
	if rt.State != "running" || rt.Runs != 2 || rt.PID == nil {
		t.Fatalf("restart of the lost task: %+v, want running run 2", rt)
	}
	var run2 struct {
		Run       int   `json:"run"`
		LogOffset int64 `json:"log_offset"`
	}
	scReadSidecar(t, e, victim.ID, "run", &run2)
	if run2.Run != 2 || run2.LogOffset < int64(len(cut)) {
		t.Fatalf("run 2 record: %+v, want run 2 starting at offset %d or later", run2, len(cut))
	}
	if !poll(30*time.Second, func() bool { return ftSize(victim.LogPath) >= run2.LogOffset+64<<10 }) {
		t.Fatalf("run 2 did not log: %d bytes", ftSize(victim.LogPath))
	}
	e.must("kill", "victim")
	fin := e.waitFinished("victim")
	ecCheck(t, "victim run 2 after kill", fin, ecWant{state: "killed", signal: "SIGKILL"})
	// The exit is recorded, so the log is complete; the supervisor's
	// trailer is not in it.
	full := ftRead(t, victim.LogPath)
	if bytes.Contains(full[run2.LogOffset:], []byte("[bgmux] killed by SIGKILL")) {
		t.Fatalf("the trailer of run 2 is in the log: %q", full[max(len(full)-200, 0):])
	}
	if !bytes.HasPrefix(full, cut) {
		t.Fatalf("restart changed the old output: the first %d bytes differ", len(cut))
	}
	// Output the killed supervisor had not read yet may still have been
	// in the pipe: the new supervisor logs it first, as the end of run 1,
	// then ends a line left cut short, then run 2 begins.
	old := full[:run2.LogOffset]
	if !bytes.HasSuffix(old, []byte("\r\n")) {
		t.Fatalf("run 1's output does not end with a line break before run 2: %q", old[max(len(old)-40, 0):])
	}
	tail := ftParse(t, "run 1 up to run 2", old[:len(old)-2], ftLine, ftParseOpts{first: 1})
	t.Logf("run 1 recovered after the cut: %d bytes, up to line %d %q", len(old)-len(cut), tail.last, tail.partial)
	again := ftParse(t, "run 2 log", full[run2.LogOffset:], ftLine, ftParseOpts{first: 1, notes: true})
	if again.lines < 1000 || strings.Contains(strings.Join(append(again.notes, again.partial), "\n"), "[bgmux] killed by SIGKILL") {
		t.Fatalf("run 2 log: %d lines, notes %q; want its lines from 1 and no trailer", again.lines, again.notes)
	}
	for _, nb := range []string{"tick-a", "tick-b"} {
		if st := e.status(nb); st.State != "running" {
			t.Fatalf("neighbour %s at the end: %+v", nb, st)
		}
	}
}
