package tasks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/proc"
)

// ftTask writes a finished task (spec, run and exit 0 of a supervisor that
// is gone) straight into the store.
func ftTask(t *testing.T, s *Store, id, name string) {
	t.Helper()
	if err := os.MkdirAll(s.TaskDir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	c := "true"
	code := 0
	for file, v := range map[string]any{
		SpecFile: Spec{ID: id, Name: name, Group: "g", Command: &c, CreatedAt: time.Now()},
		RunFile:  Run{Run: 1, SupervisorPID: 1 << 30, PID: 1 << 30, PGID: 1 << 30, BootID: proc.BootID()},
		ExitFile: Exit{Run: 1, ExitCode: &code},
	} {
		if err := fileutil.WriteJSON(s.Path(id, file), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(s.Path(id, LogFile), []byte("out of "+name+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSetAside: a task with an unparsable sidecar is reported once and
// moved whole to corrupt/<id> with a note; the other tasks load as
// before; asking for it by id or name says where it went.
func TestSetAside(t *testing.T) {
	root := t.TempDir()
	s := OpenStore(filepath.Join(root, "state"))
	m := &Manager{Store: s, Cwd: root}
	ftTask(t, s, "bg-good01", "good")
	ftTask(t, s, "bg-bad001", "bad")
	bad := []byte(`{"run": 1, "exit_co`)
	if err := os.WriteFile(s.Path("bg-bad001", ExitFile), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	all, warnings, err := s.loadAll()
	if err != nil || len(all) != 1 || all[0].ID != "bg-good01" {
		t.Fatalf("loadAll beside a damaged task: %v %v", all, err)
	}
	dir := filepath.Join(s.Dir, CorruptDir, "bg-bad001")
	if len(warnings) != 1 || !strings.Contains(warnings[0], "task bg-bad001 (bad) was set aside: its exit sidecar is truncated") || !strings.Contains(warnings[0], dir) {
		t.Fatalf("warnings: %q", warnings)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ExitFile)); err != nil || string(b) != string(bad) {
		t.Fatalf("set-aside exit: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, LogFile)); err != nil || string(b) != "out of bad\r\n" {
		t.Fatalf("set-aside log: %q %v", b, err)
	}
	var note setAsideRecord
	if err := readJSON(filepath.Join(dir, SetAsideNote), &note); err != nil || note.File != ExitFile || note.Name != "bad" {
		t.Fatalf("note: %+v %v", note, err)
	}
	if _, warnings, err := s.loadAll(); err != nil || len(warnings) != 0 {
		t.Fatalf("second loadAll: %v, warnings %q", err, warnings)
	}
	for _, ref := range []string{"bg-bad001", "bad", "bg-bad"} {
		_, err := m.Get(ref)
		var sa *SetAsideError
		if KindOf(err) != KindCorrupt || !errors.As(err, &sa) || sa.Dir != dir || !strings.Contains(err.Error(), filepath.Join(dir, ExitFile)) {
			t.Errorf("Get(%q) = %v, want a corrupt error naming %s", ref, err, dir)
		}
	}
	if _, err := m.Get("good"); err != nil {
		t.Fatalf("Get(good): %v", err)
	}

	// A task whose supervisor still runs (this process) stays in place.
	ftTask(t, s, "bg-live01", "live")
	self := os.Getpid()
	if err := fileutil.WriteJSON(s.Path("bg-live01", RunFile), Run{Run: 1, SupervisorPID: self, SupervisorStart: proc.Start(self), PID: self, PGID: self, BootID: proc.BootID()}); err != nil {
		t.Fatal(err)
	}
	os.Remove(s.Path("bg-live01", ExitFile))
	if err := os.WriteFile(s.Path("bg-live01", WindowFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		_, warnings, _ := s.loadAll()
		if len(warnings) != 1 || !strings.Contains(warnings[0], "its window sidecar") || !strings.Contains(warnings[0], "is empty") || !strings.Contains(warnings[0], "still runs") {
			t.Fatalf("warnings for a live damaged task: %q", warnings)
		}
		if !s.Exists("bg-live01") {
			t.Fatalf("a live task was moved")
		}
	}
}

// TestReadHistorySetsAside: a damaged history is renamed aside before a
// new one is written, never overwritten.
func TestReadHistorySetsAside(t *testing.T) {
	p := filepath.Join(t.TempDir(), HistoryFile)
	os.WriteFile(p, []byte("[{"), 0o600)
	hist, ok := ReadHistory(p)
	if !ok || hist != nil {
		t.Fatalf("ReadHistory of a damaged file: %v %v", hist, ok)
	}
	aside, _ := filepath.Glob(p + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("not set aside: %v", aside)
	}
	if b, _ := os.ReadFile(aside[0]); string(b) != "[{" {
		t.Fatalf("set-aside history changed: %q", b)
	}
}

// TestDiskReserve: the reserve holds ReserveSize bytes, gives them back a
// step at a time down to a floor, and is gone when spent or removed.
func TestDiskReserve(t *testing.T) {
	p := filepath.Join(t.TempDir(), ReserveFile)
	r := NewDiskReserve(p)
	<-r.filled // filled in the background
	if st, err := os.Stat(p); err != nil || st.Size() != ReserveSize {
		t.Fatalf("reserve: %v %v", st, err)
	}
	n := 0
	for r.Release(ReserveSize / 2) {
		n++
	}
	if st, _ := os.Stat(p); n != (ReserveSize/2)/reserveStep || st.Size() != ReserveSize/2 {
		t.Fatalf("released %d steps down to %d", n, st.Size())
	}
	for r.Release(0) {
	}
	if _, err := os.Stat(p); err == nil {
		t.Fatalf("a spent reserve is still there")
	}
	r = NewDiskReserve(p)
	r.Remove()
	if _, err := os.Stat(p); err == nil || r.Release(0) {
		t.Fatalf("a removed reserve is still there")
	}
}
