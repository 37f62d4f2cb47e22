package tasks

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/bgmux/bgmux/fileutil"
)

// writeSpecOnly makes a task directory with only a spec: a task that is
// "starting" while created is recent, and lost once startingGrace passed.
func writeSpecOnly(t *testing.T, s *Store, group, name string, created time.Time) string {
	t.Helper()
	id, err := s.NewID()
	if err != nil {
		t.Fatal(err)
	}
	sp := Spec{ID: id, Name: name, Group: group, Argv: []string{"true"}, CreatedAt: created}
	if err := fileutil.WriteJSON(s.Path(id, SpecFile), &sp); err != nil {
		t.Fatal(err)
	}
	return id
}

func indexEntries(t *testing.T, s *Store, group, name string) []string {
	t.Helper()
	ents, err := os.ReadDir(s.nameDir(group, name))
	if err != nil {
		return nil
	}
	var ids []string
	for _, e := range ents {
		ids = append(ids, e.Name())
	}
	sort.Strings(ids)
	return ids
}

// TestNameIndexBuiltFromExistingSpecs checks that a store written without
// an index gets one holding every named task, so a live task made by an
// older bgmux still conflicts, and that nothing else is listed.
func TestNameIndexBuiltFromExistingSpecs(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	live := writeSpecOnly(t, s, "g1", "web", time.Now())
	old := writeSpecOnly(t, s, "g1", "web", time.Now().Add(-time.Hour))
	other := writeSpecOnly(t, s, "g2", "web", time.Now())
	if _, err := os.Stat(filepath.Join(s.Dir, namesDir)); err == nil {
		t.Fatal("index exists before it was asked for")
	}
	if err := s.ensureNameIndex(); err != nil {
		t.Fatal(err)
	}
	want := []string{live, old}
	sort.Strings(want)
	if got := indexEntries(t, s, "g1", "web"); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("g1/web lists %v, want %v", got, want)
	}
	if got := indexEntries(t, s, "g2", "web"); len(got) != 1 || got[0] != other {
		t.Fatalf("g2/web lists %v, want [%s]", got, other)
	}
	if tk := s.liveNamed("g1", "web"); tk == nil || tk.ID != live {
		t.Fatalf("liveNamed(g1, web) = %v, want %s (the starting one, not the lost one)", tk, live)
	}
	if tk := s.liveNamed("g1", "api"); tk != nil {
		t.Fatalf("liveNamed(g1, api) = %s, want none", tk.ID)
	}
	ents, _ := os.ReadDir(s.Dir)
	for _, e := range ents {
		if e.Name() != "tasks" && e.Name() != namesDir {
			t.Fatalf("building the index left %s behind", e.Name())
		}
	}
}

// TestNameIndexFollowsRemoval checks that removing a task drops its entry
// and the emptied directories, and that an entry whose task vanished
// without Remove is dropped when met.
func TestNameIndexFollowsRemoval(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	if err := s.ensureNameIndex(); err != nil {
		t.Fatal(err)
	}
	a := writeSpecOnly(t, s, "g", "a", time.Now())
	b := writeSpecOnly(t, s, "g", "b", time.Now())
	c := writeSpecOnly(t, s, "g", "b", time.Now())
	for _, e := range [][3]string{{"g", "a", a}, {"g", "b", b}, {"g", "b", c}} {
		if err := s.indexName(e[0], e[1], e[2]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Remove(a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.nameDir("g", "a")); !os.IsNotExist(err) {
		t.Fatalf("names/g/a still there after its only task was removed: %v", err)
	}
	if err := s.Remove(b); err != nil {
		t.Fatal(err)
	}
	if got := indexEntries(t, s, "g", "b"); len(got) != 1 || got[0] != c {
		t.Fatalf("g/b lists %v after removing %s, want [%s]", got, b, c)
	}
	// A task directory deleted behind bgmux's back.
	if err := os.RemoveAll(s.TaskDir(c)); err != nil {
		t.Fatal(err)
	}
	if tk := s.liveNamed("g", "b"); tk != nil {
		t.Fatalf("liveNamed found %s, whose directory is gone", tk.ID)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, namesDir, "g")); !os.IsNotExist(err) {
		t.Fatalf("names/g still there after every task in it went: %v", err)
	}
}

// TestNameIndexModes checks the index's directories are 0700 and its
// entries 0600, like the rest of the state directory.
func TestNameIndexModes(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	if err := s.ensureNameIndex(); err != nil {
		t.Fatal(err)
	}
	id := writeSpecOnly(t, s, "g", "n", time.Now())
	if err := s.indexName("g", "n", id); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(s.Dir, namesDir), filepath.Join(s.Dir, namesDir, "g"), s.nameDir("g", "n")} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("%s: mode %v (%v), want 0700", p, st.Mode().Perm(), err)
		}
	}
	if st, err := os.Stat(filepath.Join(s.nameDir("g", "n"), id)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("entry mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
}

// TestGroupIDsFromIndex checks that the index lists exactly one group's
// tasks, every name of it, and that a store without an index says so.
func TestGroupIDsFromIndex(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	var want []string
	for i, g := range []string{"a", "b", "a", "c", "a"} {
		id := writeSpecOnly(t, s, g, []string{"x", "y", "x", "z", "w"}[i], time.Now())
		if g == "a" {
			want = append(want, id)
		}
	}
	if _, ok := s.groupIDs("a", 5); ok {
		t.Fatal("groupIDs answered for a store without an index")
	}
	if err := s.ensureNameIndex(); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.groupIDs("a", 3); ok {
		t.Fatal("groupIDs answered for a group holding most of the store's names")
	}
	got, ok := s.groupIDs("a", 100)
	sort.Strings(want)
	if !ok || len(got) != len(want) {
		t.Fatalf("groupIDs(a) = %v, %v; want %v", got, ok, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("groupIDs(a) = %v, want %v", got, want)
		}
	}
	if got, ok := s.groupIDs("nosuch", 5); !ok || len(got) != 0 {
		t.Fatalf("groupIDs(nosuch) = %v, %v; want none, true", got, ok)
	}
}
