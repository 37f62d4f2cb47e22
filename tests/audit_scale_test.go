package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// auditScaleTasks is how many tasks the scale test creates; it removes
// half of them with one bgmux call and half with another: kill-window -t
// @N for 1000 windows is about 23 KiB of arguments, more than one tmux
// command list can carry (16364 bytes on tmux 3.3a, where about 740 such
// commands already fail with "command too long").
const auditScaleTasks = 2000

// auditFinishedTasks adds n finished tasks to the store the way bgmux
// leaves them: each a copy of the finished task seed (spec, run, exit,
// history, log, name index entry) under a fresh id and name, with its own
// real tmux window (a dead pane kept by remain-on-exit, carrying the
// task's @bgmux_id) recorded in its window sidecar. Windows are made by a
// hundred per raw tmux call, which is what keeps n = 2000 fast; the
// commands under test (rm, prune) are the real ones. It returns the ids.
func auditFinishedTasks(t *testing.T, e *env, seed task, n int) []string {
	t.Helper()
	seedDir := filepath.Join(e.State, "tasks", seed.ID)
	read := func(name string) map[string]any {
		var v map[string]any
		b, err := os.ReadFile(filepath.Join(seedDir, name))
		if err != nil || json.Unmarshal(b, &v) != nil {
			t.Fatalf("seed %s: %v %s", name, err, b)
		}
		return v
	}
	spec, window := read("spec"), read("window")
	copyFile := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(seedDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	run, exit, history, logb := copyFile("run"), copyFile("exit"), copyFile("history"), copyFile("output.log")
	write := func(p string, b []byte) {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	const perCall = 100 // about 9 KiB of arguments per call
	for base := 0; base < n; base += perCall {
		var args []string
		var batch []string
		for i := base; i < base+perCall && i < n; i++ {
			id := fmt.Sprintf("bg-f%05d", i)
			batch = append(batch, id)
			if len(args) > 0 {
				args = append(args, ";")
			}
			args = append(args, "new-window", "-d", "-t", "="+seed.Group+":", "-n", id, "-P", "-F", "#{session_id} #{window_id} #{pane_id} #{pane_pid}", "--", "true", "x",
				";", "set-option", "-w", "-t", "="+seed.Group+":="+id, "@bgmux_id", id)
		}
		out, err := e.tmux(args...)
		if err != nil {
			t.Fatalf("create windows: %v\n%s", err, out)
		}
		lines := strings.Fields(strings.ReplaceAll(strings.TrimSpace(out), "\n", " "))
		if len(lines) != 4*len(batch) {
			t.Fatalf("new-window printed %q for %d windows", out, len(batch))
		}
		for j, id := range batch {
			f := lines[4*j : 4*j+4]
			dir := filepath.Join(e.State, "tasks", id)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			name := "f" + id[4:]
			spec["id"], spec["name"] = id, name
			window["session_id"], window["window"], window["pane"] = f[0], f[1], f[2]
			var pid int
			fmt.Sscan(f[3], &pid)
			window["pane_pid"] = pid
			sb, _ := json.Marshal(spec)
			wb, _ := json.Marshal(window)
			write(filepath.Join(dir, "spec"), sb)
			write(filepath.Join(dir, "window"), wb)
			write(filepath.Join(dir, "run"), run)
			write(filepath.Join(dir, "exit"), exit)
			write(filepath.Join(dir, "history"), history)
			write(filepath.Join(dir, "output.log"), logb)
			idx := filepath.Join(e.State, "names", seed.Group, name)
			if err := os.MkdirAll(idx, 0o700); err != nil {
				t.Fatal(err)
			}
			write(filepath.Join(idx, id), nil)
			ids = append(ids, id)
		}
	}
	return ids
}

// auditWindowsOf returns the @bgmux_id of every window on the test's
// server (empty when no server runs), counted.
func auditWindowsOf(e *env) map[string]int {
	panes, _ := edgePanes(e)
	got := map[string]int{}
	for _, p := range panes {
		f := strings.Fields(p)
		if len(f) == 3 {
			got[f[2]]++
		} else {
			got[""]++
		}
	}
	return got
}

// auditKeeper opens a window on the test's server that is no task, so a
// test can check that removing tasks closes nothing else.
func auditKeeper(t *testing.T, e *env, group string) {
	t.Helper()
	if out, err := e.tmux("new-window", "-d", "-t", "="+group+":", "-n", "keeper", "sleep", "100000"); err != nil {
		t.Fatalf("keeper window: %v\n%s", err, out)
	}
}

// TestAuditRemoveThousands: rm --force and prune work for any number of
// tasks. Of 2000 tasks with real windows (40 of them live, sleeping),
// rm --force of 1000 (the live ones spread among them) removes exactly
// those, kills every live one and closes their windows; then prune --all
// removes the other 1000. Each call closes more windows than one tmux
// command list can hold. On the old code both failed with "tmux
// kill-window: command too long" and removed nothing, rm --force after
// it had SIGKILLed all its live tasks.
func TestAuditRemoveThousands(t *testing.T) {
	e := newEnv(t)
	seed := e.start("--name", "seed", "--", "true")
	e.waitFinished(seed.ID)
	const live = 40
	liveTasks := make([]task, live)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	errs := make(chan string, live)
	for i := 0; i < live; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := edgeRunBin(e, e.Dir, "start", "--json", "--name", fmt.Sprintf("live%d", i), "--", "sleep", "100000")
			if r.Code != 0 || json.Unmarshal([]byte(r.Out), &liveTasks[i]) != nil {
				errs <- fmt.Sprintf("start live%d: exit %d %s", i, r.Code, r.Err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Fatal(msg)
	}
	made := time.Now()
	finished := auditFinishedTasks(t, e, seed, auditScaleTasks-live-1)
	t.Logf("%d finished tasks with windows made in %v", len(finished), time.Since(made))
	auditKeeper(t, e, seed.Group)
	if got := auditWindowsOf(e); len(got) != auditScaleTasks+1 {
		t.Fatalf("%d distinct windows before rm, want %d tasks and the keeper", len(got), auditScaleTasks)
	}

	// rm --force of half of them, the live ones spread over the list.
	const half = auditScaleTasks / 2
	args := []string{"rm", "--force"}
	gone := map[string]bool{}
	step := (half - live) / live
	for i, id := range finished[:half-live] {
		if i%step == 0 && i/step < live {
			args = append(args, liveTasks[i/step].ID)
			gone[liveTasks[i/step].ID] = true
		}
		args = append(args, id)
		gone[id] = true
	}
	if len(gone) != half {
		t.Fatalf("built %d task arguments, want %d", len(gone), half)
	}
	began := time.Now()
	r := e.run(args...)
	if r.Code != 0 {
		t.Fatalf("rm --force of %d tasks (%d live): exit %d\n%s", half, live, r.Code, edgeShort(r.Err))
	}
	t.Logf("rm --force of %d tasks (%d live) took %v", half, live, time.Since(began))
	if n := strings.Count(r.Out, "removed "); n != half {
		t.Fatalf("rm printed %d removed lines, want %d", n, half)
	}
	for _, tk := range liveTasks {
		if tk.PID != nil && pidAlive(*tk.PID) {
			t.Fatalf("task %s (pid %d) still runs after rm --force", tk.ID, *tk.PID)
		}
	}
	left := edgeTaskDirs(t, e)
	if len(left) != auditScaleTasks-half {
		t.Fatalf("%d task dirs left after rm --force of %d, want %d", len(left), half, auditScaleTasks-half)
	}
	for _, id := range left {
		if gone[id] {
			t.Fatalf("task %s is still there after rm --force", id)
		}
	}
	windows := auditWindowsOf(e)
	for id := range windows {
		if gone[id] {
			t.Fatalf("the window of task %s is still there after rm --force", id)
		}
	}
	if len(windows) != auditScaleTasks-half+1 || windows[""] != 1 {
		t.Fatalf("%d windows after rm --force, want the %d other tasks' and the keeper", len(windows), auditScaleTasks-half)
	}

	// prune --all of the rest.
	began = time.Now()
	r = e.run("prune", "--all", "--json")
	if r.Code != 0 {
		t.Fatalf("prune --all of %d finished tasks: exit %d\n%s", auditScaleTasks-half, r.Code, edgeShort(r.Err))
	}
	t.Logf("prune --all of %d tasks took %v", auditScaleTasks-half, time.Since(began))
	var doc struct {
		Removed []task `json:"removed"`
	}
	edgeOneJSON(t, "prune --json", r.Out, &doc)
	if len(doc.Removed) != auditScaleTasks-half {
		t.Fatalf("prune removed %d tasks, want %d", len(doc.Removed), auditScaleTasks-half)
	}
	if left := edgeTaskDirs(t, e); len(left) != 0 {
		t.Fatalf("%d task dirs left after prune, e.g. %v", len(left), left[:1])
	}
	if got := auditWindowsOf(e); len(got) != 1 || got[""] != 1 {
		t.Fatalf("windows left after prune: %d ids (want only the keeper)", len(got))
	}
}

// TestAuditRmFailureSaysWhatWasDone: when rm --force fails midway (here a
// task directory that cannot be removed: a read-only bind mount on it),
// the error says exactly what was done: which were removed, which were
// killed but are still there (finished, not lost), which lost their
// windows, and every task left is whole. (On the old code the error
// named only the directory, and did not say that the live tasks after it
// had been killed.)
func TestAuditRmFailureSaysWhatWasDone(t *testing.T) {
	needRoot(t, "it bind-mounts a task directory read-only")
	e := newEnv(t)
	a := e.start("--name", "a", "--", "sleep", "100000")
	b := e.start("--name", "b", "--", "true")
	c := e.start("--name", "c", "--", "sleep", "100000")
	e.waitFinished(b.ID)
	dirB := filepath.Join(e.State, "tasks", b.ID)
	ftReadOnlyView(t, e, dirB, dirB)

	r := e.run("rm", "--force", a.ID, b.ID, c.ID)
	if r.Code != 1 {
		t.Fatalf("rm --force with one directory that cannot go: exit %d, want 1\n%s", r.Code, r.Err)
	}
	for _, want := range []string{"removed 1 of 3 tasks", "1 more were killed but not removed (" + c.ID + ")", "may have lost their windows (" + b.ID + ")", "remove " + b.ID} {
		if !strings.Contains(r.Err, want) {
			t.Fatalf("rm error %q does not say %q", r.Err, want)
		}
	}
	if r.Out != "removed "+a.ID+" (a)\n" {
		t.Fatalf("rm printed %q, want the one task it removed", r.Out)
	}
	if dirs := edgeTaskDirs(t, e); strings.Join(dirs, " ") != strings.Join(sortedIDs(b.ID, c.ID), " ") {
		t.Fatalf("task dirs after the failed rm: %v, want %s and %s", dirs, b.ID, c.ID)
	}
	if pidAlive(*a.PID) || pidAlive(*c.PID) {
		t.Fatal("a live task survived rm --force")
	}
	if s := e.status(c.ID); s.State != "killed" || s.Signal == nil || *s.Signal != "SIGKILL" {
		t.Fatalf("c after the failed rm: %+v, want killed by SIGKILL as the error says", s)
	}
	if s := e.status(b.ID); s.State != "exited" || s.Runs != 1 {
		t.Fatalf("b after the failed rm: %+v, want it whole, exited", s)
	}
}

func sortedIDs(ids ...string) []string {
	sort.Strings(ids)
	return ids
}
