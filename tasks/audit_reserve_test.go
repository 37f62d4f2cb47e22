package tasks

import (
	"os"
	"testing"
)

// TestAuditReserveHandover: a restart hands the reserve of the supervisor
// it replaces to the next one (the old one's removal at its end leaves
// it), makes a new one when there is none, and the next supervisor takes
// it over whole.
func TestAuditReserveHandover(t *testing.T) {
	st := OpenStore(t.TempDir())
	id := "bg-test00"
	if err := os.MkdirAll(st.TaskDir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	cur, next := st.Path(id, ReserveFile), st.Path(id, NextReserveFile)
	old := NewDiskReserve(cur)
	if old.Held() != ReserveSize {
		t.Fatalf("reserve holds %d", old.Held())
	}
	undo, err := st.prepareReserve(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cur); err == nil {
		t.Fatalf("the live supervisor's reserve was not handed over")
	}
	undo()
	if _, err := os.Stat(cur); err != nil {
		t.Fatalf("undo did not give the reserve back: %v", err)
	}
	if _, err := st.prepareReserve(id); err != nil {
		t.Fatal(err)
	}
	old.Remove() // the stopped supervisor ends
	fi, err := os.Stat(next)
	if err != nil || fi.Size() != ReserveSize {
		t.Fatalf("handed-over reserve after the old supervisor ended: %v %v", fi, err)
	}
	st.TakeOverReserve(id)
	r := NewDiskReserve(cur)
	if r.Held() != ReserveSize {
		t.Fatalf("the next supervisor holds %d", r.Held())
	}
	if _, err := os.Stat(next); err == nil {
		t.Fatalf("%s left after the take-over", NextReserveFile)
	}
	r.Remove()
	// None to hand over: a new one.
	if _, err := st.prepareReserve(id); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(next); err != nil || fi.Size() != ReserveSize {
		t.Fatalf("new reserve: %v %v", fi, err)
	}
}
