package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAuditStopWhileRestartPendingKeepsEndedAt: a task stopped while its
// restart policy waits keeps the end time of its last run. The final exit
// record was once written from a copy made before the end time was set,
// so status showed 0001-01-01 and prune took the task for ancient.
func TestAuditStopWhileRestartPendingKeepsEndedAt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := time.Now().Add(-time.Second)
	tk := e.start("--name", "flap", "--restart", "always", "--", "sh", "-c", "exit 1")
	type exitRec struct {
		Run           int        `json:"run"`
		EndedAt       time.Time  `json:"ended_at"`
		NextRestartAt *time.Time `json:"next_restart_at"`
	}
	path := filepath.Join(e.State, "tasks", tk.ID, "exit")
	var ex exitRec
	if !poll(20*time.Second, func() bool {
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &ex) == nil && ex.NextRestartAt != nil
	}) {
		t.Fatalf("no exit record with a pending restart appeared")
	}
	e.must("stop", "flap")
	var final exitRec
	if !poll(10*time.Second, func() bool {
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &final) == nil && final.NextRestartAt == nil
	}) {
		t.Fatalf("the exit record still says a restart is pending after stop")
	}
	if final.EndedAt.Before(before) || final.EndedAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("final exit record of run %d has ended_at %v, want the end of that run (after %v)", final.Run, final.EndedAt, before)
	}
	out := e.must("status", "flap", "--json")
	var st struct {
		EndedAt *time.Time `json:"ended_at"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.EndedAt == nil || st.EndedAt.Before(before) {
		t.Fatalf("status ended_at = %v (err %v), want the end of the last run:\n%s", st.EndedAt, err, out)
	}
}
