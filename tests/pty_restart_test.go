package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// ptyRun is the run sidecar's run number and pids.
type ptyRun struct {
	Run           int `json:"run"`
	SupervisorPID int `json:"supervisor_pid"`
	PID           int `json:"pid"`
}

// ptyHistory is the run numbers of ref's history, oldest first, and its
// current run count.
func ptyHistory(t *testing.T, e *env, ref string) (runs []int, current int) {
	t.Helper()
	var doc struct {
		Runs    int `json:"runs"`
		History []struct {
			Run int `json:"run"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(e.must("status", "--json", ref)), &doc); err != nil {
		t.Fatal(err)
	}
	for _, h := range doc.History {
		runs = append(runs, h.Run)
	}
	return runs, doc.Runs
}

// TestPtyConcurrentRestarts: five bgmux restart of one task at once, ten
// times over. Each restart succeeds; afterwards exactly one child of the
// task is alive, the one the run record names; the run numbers are
// contiguous and unique (the history holds 1..n-1, the run record n); and
// the supervisor is the same process throughout: restart asks it, through
// its socket, to end the run and start the next.
func TestPtyConcurrentRestarts(t *testing.T) {
	e := newEnv(t)
	arg := fmt.Sprint(900000 + rand.IntN(99999)) // marks this test's sleeps in /proc
	tk := e.start("--name", "long", "--", "sleep", arg)
	var first ptyRun
	scReadSidecar(t, e, tk.ID, "run", &first)
	children := func() []int {
		var pids []int
		for _, p := range ptyProcs() {
			if bytes.Equal(p.Cmdline, []byte("sleep\x00"+arg+"\x00")) {
				pids = append(pids, p.PID)
			}
		}
		return pids
	}
	lastRuns := 1
	for trial := 1; trial <= 10; trial++ {
		var wg sync.WaitGroup
		res := make([]result, 5)
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i], _ = auditRunWithin(e, time.Minute, "restart", "--json", tk.ID)
			}()
		}
		wg.Wait()
		for i, r := range res {
			if r.Code != 0 {
				t.Fatalf("trial %d: restart %d of 5: exit %d (-1: still running after a minute)\nstdout: %s\nstderr: %s", trial, i, r.Code, r.Out, r.Err)
			}
		}
		var run ptyRun
		var kids []int
		if !poll(20*time.Second, func() bool {
			s := e.status(tk.ID)
			scReadSidecar(t, e, tk.ID, "run", &run)
			kids = children()
			return s.State == "running" && s.PID != nil && *s.PID == run.PID && len(kids) == 1 && kids[0] == run.PID
		}) {
			t.Fatalf("trial %d: never exactly one child alive and named by the run record: children %v, run record %+v", trial, kids, run)
		}
		if run.SupervisorPID != first.SupervisorPID || !pidAlive(run.SupervisorPID) {
			t.Fatalf("trial %d: the supervisor is %d, want the same process as at start, %d", trial, run.SupervisorPID, first.SupervisorPID)
		}
		hist, runs := ptyHistory(t, e, tk.ID)
		if run.Run != runs || runs <= lastRuns || runs > lastRuns+5 {
			t.Fatalf("trial %d: run record's run %d, status runs %d, %d before the 5 restarts", trial, run.Run, runs, lastRuns)
		}
		for i, n := range hist {
			if n != i+1 || len(hist) != runs-1 {
				t.Fatalf("trial %d: history runs %v with the current run %d, want 1..%d once each", trial, hist, runs, runs-1)
			}
		}
		lastRuns = runs
	}
}
