package mcp

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTasksExtHandlesExpire: a handle is kept for its time to live after
// its last change, then tasks/get no longer knows it, and the files of
// expired handles (and stale temporary or damaged ones) are removed when
// a server starts; files that are not handles' are left alone.
func TestTasksExtHandlesExpire(t *testing.T) {
	dir := filepath.Join(t.TempDir(), handleDir)
	st := &handleStore{dir: dir, ttl: time.Hour}
	now := time.Now().UTC()
	fresh := &handleRecord{ID: newHandleID(), Tool: "wait_task", Arguments: []byte(`{"task":"x"}`), Status: statusCompleted, CreatedAt: now, UpdatedAt: now}
	old := &handleRecord{ID: newHandleID(), Tool: "wait_task", Arguments: []byte(`{"task":"x"}`), Status: statusCompleted,
		CreatedAt: now.Add(-3 * time.Hour), UpdatedAt: now.Add(-2 * time.Hour)}
	stale := &handleRecord{ID: newHandleID(), Tool: "wait_task", Status: statusWorking, CreatedAt: now.Add(-2 * time.Hour), UpdatedAt: now.Add(-90 * time.Minute)}
	for _, r := range []*handleRecord{fresh, old, stale} {
		if err := st.save(r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.load(fresh.ID); err != nil {
		t.Fatalf("a fresh handle: %v", err)
	}
	if _, err := st.load(old.ID); err == nil {
		t.Fatalf("a handle 2h after its last change (ttl 1h) still loads")
	}
	if _, err := os.Stat(st.path(old.ID)); !os.IsNotExist(err) {
		t.Errorf("the expired handle's file is still there: %v", err)
	}
	damaged := filepath.Join(dir, newHandleID()+".json")
	leftover := filepath.Join(dir, newHandleID()+".json.tmp")
	newDamaged := filepath.Join(dir, newHandleID()+".json")
	other := filepath.Join(dir, "notes.txt")
	for _, p := range []string{damaged, leftover, newDamaged, other} {
		os.WriteFile(p, []byte("{"), 0o600)
	}
	past := now.Add(-2 * time.Hour)
	for _, p := range []string{damaged, leftover, other} {
		os.Chtimes(p, past, past)
	}
	st.clean()
	for p, want := range map[string]bool{st.path(fresh.ID): true, st.path(stale.ID): false, damaged: false, leftover: false, newDamaged: true, other: true} {
		_, err := os.Stat(p)
		if got := err == nil; got != want {
			t.Errorf("after clean, %s exists: %v, want %v", filepath.Base(p), got, want)
		}
	}
}
