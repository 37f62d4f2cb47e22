package tasks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/proc"
)

// fakeTask writes a spec (and, for live tasks, a run record naming this
// test process as the supervisor) straight into the store.
func fakeTask(t *testing.T, s *Store, id, name, group string, live bool, created time.Time) {
	t.Helper()
	if err := os.MkdirAll(s.TaskDir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	c := "true"
	if err := fileutil.WriteJSON(s.Path(id, SpecFile), Spec{ID: id, Name: name, Group: group, Command: &c, CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	run := Run{Run: 1, SupervisorPID: self, SupervisorStart: proc.Start(self), PID: self, PGID: self, BootID: proc.BootID()}
	if err := fileutil.WriteJSON(s.Path(id, RunFile), run); err != nil {
		t.Fatal(err)
	}
	if !live {
		code := 0
		if err := fileutil.WriteJSON(s.Path(id, ExitFile), Exit{Run: 1, ExitCode: &code}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestResolve(t *testing.T) {
	root := t.TempDir()
	cwd := filepath.Join(root, "proj")
	os.MkdirAll(cwd, 0o755)
	s := OpenStore(filepath.Join(root, "state"))
	m := &Manager{Store: s, Cwd: cwd}
	now := time.Now()
	fakeTask(t, s, "bg-aaaaa1", "web", "proj", false, now.Add(-3*time.Minute))
	fakeTask(t, s, "bg-aaaaa2", "web", "proj", true, now.Add(-2*time.Minute))
	fakeTask(t, s, "bg-aaaaa3", "web", "proj", false, now.Add(-1*time.Minute))
	fakeTask(t, s, "bg-bbbbb1", "db", "other", true, now)
	fakeTask(t, s, "bg-ccccc1", "api", "g1", true, now)
	fakeTask(t, s, "bg-ccccc2", "api", "g2", true, now)
	fakeTask(t, s, "bg-zzzzz9", "old", "proj", false, now)

	cases := map[string]string{
		"bg-aaaaa1": "bg-aaaaa1", // exact id
		"web":       "bg-aaaaa2", // live task wins among same-named
		"db":        "bg-bbbbb1", // unique name in another group
		"bg-bb":     "bg-bbbbb1", // id prefix
		"bg-zzz":    "bg-zzzzz9", // id prefix
		"old":       "bg-zzzzz9",
	}
	for ref, want := range cases {
		got, err := m.Resolve(ref)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", ref, got, err, want)
		}
	}
	errs := map[string]Kind{"": KindInvalid, "nope": KindNotFound, "zzz": KindNotFound, "aaaa": KindNotFound, "bg-a": KindAmbiguous, "api": KindAmbiguous, "../x": KindNotFound}
	for ref, kind := range errs {
		_, err := m.Resolve(ref)
		if err == nil || KindOf(err) != kind {
			t.Errorf("Resolve(%q) = %v, want kind %s", ref, err, kind)
		}
	}
	_, err := m.Resolve("bg-a")
	for _, id := range []string{"bg-aaaaa1", "bg-aaaaa2", "bg-aaaaa3"} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("ambiguity error does not list %s: %v", id, err)
		}
	}
	// With no live one, the newest of the same-named finished tasks wins.
	os.RemoveAll(s.TaskDir("bg-aaaaa2"))
	if got, _ := m.Resolve("web"); got != "bg-aaaaa3" {
		t.Errorf("Resolve(web) among finished = %q, want the newest bg-aaaaa3", got)
	}
}

func TestStateDerivation(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	fakeTask(t, s, "bg-live00", "a", "g", true, time.Now())
	fakeTask(t, s, "bg-done00", "b", "g", false, time.Now())
	for id, want := range map[string]State{"bg-live00": Running, "bg-done00": Exited} {
		tk, err := s.load(id)
		if err != nil || tk.State != want {
			t.Fatalf("%s: %v %v, want %s", id, tk, err, want)
		}
	}
	// A run record whose supervisor start time does not match (pid reused) is lost.
	var r Run
	readJSON(s.Path("bg-live00", RunFile), &r)
	r.SupervisorStart++
	fileutil.WriteJSON(s.Path("bg-live00", RunFile), r)
	if tk, _ := s.load("bg-live00"); tk.State != Lost {
		t.Fatalf("reused pid: state %s, want lost", tk.State)
	}
	// A different boot id (the host rebooted) is lost too.
	r.SupervisorStart--
	fileutil.WriteJSON(s.Path("bg-live00", RunFile), r)
	t.Setenv(proc.BootIDEnv, "another-boot")
	if tk, _ := s.load("bg-live00"); tk.State != Lost {
		t.Fatalf("after reboot: state %s, want lost", tk.State)
	}
}
