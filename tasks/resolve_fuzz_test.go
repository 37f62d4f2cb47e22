package tasks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bgmux/bgmux/proc"
)

// resolveTask is a task of the resolve fuzz store, as the model sees it.
type resolveTask struct {
	id, name, group string
	live            bool
	created         time.Time
}

// putTask writes the spec (through Spec's own JSON form) and run record
// of a task, plus an exit record when it is finished. The run names this
// test process as the supervisor, so the task is running until it has an
// exit record. Plain writes: fsync per fuzz input would be too slow.
func putTask(tb testing.TB, s *Store, rt resolveTask) {
	tb.Helper()
	c := "true"
	self := os.Getpid()
	files := map[string]any{
		SpecFile: Spec{ID: rt.id, Name: rt.name, Group: rt.group, Command: &c, CreatedAt: rt.created},
		RunFile:  Run{Run: 1, SupervisorPID: self, SupervisorStart: proc.Start(self), PID: self, PGID: self, BootID: proc.BootID()},
	}
	if !rt.live {
		code := 0
		files[ExitFile] = Exit{Run: 1, ExitCode: &code}
	}
	if err := os.MkdirAll(s.TaskDir(rt.id), 0o700); err != nil {
		tb.Fatal(err)
	}
	for name, v := range files {
		data, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(s.Path(rt.id, name), data, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}

// expectResolve is the documented resolution order, written out on the
// model: exact id; name in the current group (live first, then newest,
// then id order); name in exactly one other group; unique id prefix
// starting with "bg-". It returns the id or the error kind.
func expectResolve(ts []resolveTask, group, ref string) (string, Kind, []string) {
	if ref == "" {
		return "", KindInvalid, nil
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].id < ts[j].id })
	for _, t := range ts {
		if t.id == ref {
			return t.id, "", nil
		}
	}
	pick := func(c []resolveTask) string {
		sort.SliceStable(c, func(i, j int) bool {
			if c[i].live != c[j].live {
				return c[i].live
			}
			return c[i].created.After(c[j].created)
		})
		return c[0].id
	}
	var inGroup, named []resolveTask
	groups := map[string]bool{}
	for _, t := range ts {
		if t.name == ref {
			named = append(named, t)
			groups[t.group] = true
			if t.group == group {
				inGroup = append(inGroup, t)
			}
		}
	}
	ids := func(c []resolveTask) []string {
		var out []string
		for _, t := range c {
			out = append(out, t.id)
		}
		return out
	}
	switch {
	case len(inGroup) > 0:
		return pick(inGroup), "", nil
	case len(groups) == 1:
		return pick(named), "", nil
	case len(groups) > 1:
		return "", KindAmbiguous, ids(named)
	}
	var prefixed []resolveTask
	for _, t := range ts {
		if strings.HasPrefix(ref, IDPrefix) && strings.HasPrefix(t.id, ref) {
			prefixed = append(prefixed, t)
		}
	}
	switch len(prefixed) {
	case 0:
		return "", KindNotFound, nil
	case 1:
		return prefixed[0].id, "", nil
	}
	return "", KindAmbiguous, ids(prefixed)
}

// FuzzResolve checks TASK resolution against a real store holding fixed
// tasks plus one task whose name, group, liveness and age come from the
// fuzzer; the store is read spec by spec or through the name index.
// Resolve(ref) gives exactly what the documented order gives on a model
// of the store: the same id, or an error of the same kind (invalid_input
// for "", not_found quoting ref, ambiguous listing every candidate). It
// never returns an id unrelated to ref: the result is ref itself, a task
// named ref, or an id that ref (starting with "bg-") is a prefix of. A
// task whose name ValidateName accepts is found by that name, and every
// task by its id.
func FuzzResolve(f *testing.F) {
	// Two stores with the same tasks: one scanned spec by spec, one with
	// the name index (names/<group>/<name>/<id>) that start maintains.
	newManager := func() *Manager {
		root := f.TempDir()
		cwd := filepath.Join(root, "proj")
		if err := os.MkdirAll(cwd, 0o755); err != nil {
			f.Fatal(err)
		}
		s := OpenStore(filepath.Join(root, "state"))
		if err := s.Init(); err != nil {
			f.Fatal(err)
		}
		return &Manager{Store: s, Cwd: cwd}
	}
	plain, indexed := newManager(), newManager()
	group := plain.CurrentGroup()
	now := time.Now().Truncate(time.Second)
	fixed := []resolveTask{
		{"bg-aaaaa1", "web", group, false, now.Add(-3 * time.Minute)},
		{"bg-aaaaa2", "web", group, true, now.Add(-2 * time.Minute)},
		{"bg-aaaaa3", "web", group, false, now.Add(-1 * time.Minute)},
		{"bg-bbbbb1", "db", "other", true, now},
		{"bg-ccccc1", "api", "g1", true, now},
		{"bg-ccccc2", "api", "g2", true, now},
		{"bg-zzzzz9", "old", group, false, now},
		{"bg-a3bcde", "x", "bg-grp", false, now},
		{"bg-a3bcdf", "a3", group, false, now.Add(-time.Hour)},
	}
	for _, m := range []*Manager{plain, indexed} {
		for _, rt := range fixed {
			putTask(f, m.Store, rt)
		}
	}
	if err := indexed.Store.ensureNameIndex(); err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct {
		ref, name, group string
		live             bool
		age              uint8
	}{
		{"", "x", "", false, 0}, {"web", "web", "", true, 0}, {"web", "web", "", false, 200}, {"web", "web", "other", true, 0},
		{"db", "db", "g3", false, 1}, {"api", "api", "", false, 0}, {"a3", "a3", "", true, 5}, {"a3", "", "", false, 0},
		{"bg-a", "n", "", false, 0}, {"bg-a3", "n", "", false, 0}, {"bg-fz", "n", "", false, 0}, {"bg-fzfzfz", "n", "", false, 0},
		{"bg-fzfzfz/", "n", "", false, 0}, {"bg-aaaaa1/../bg-bbbbb1", "n", "", false, 0}, {"../state", "n", "", false, 0},
		{"bg-", "n", "", false, 0}, {"bg-.", "n", "", false, 0}, {"bg-..", "n", "", false, 0}, {"BG-AAAAA1", "n", "", false, 0},
		{"bg-aaaaa1\x00", "n", "", false, 0}, {"x", "x", "bg-grp", true, 3}, {"old", "old", "", true, 0}, {"nope", "bad name", "", false, 0},
		{"\xff", "n", "bad group!", true, 0}, {"web ", "web", "", false, 0},
	} {
		f.Add(seed.ref, seed.name, seed.group, seed.live, seed.age, false)
		f.Add(seed.ref, seed.name, seed.group, seed.live, seed.age, true)
	}
	const extraID = "bg-fzfzfz"
	f.Fuzz(func(t *testing.T, ref, name, grp string, live bool, age uint8, useIndex bool) {
		m := plain
		if useIndex {
			m = indexed
		}
		s := m.Store
		ts := append([]resolveTask(nil), fixed...)
		if ValidateName(name) == nil {
			if ValidateGroup(grp) != nil {
				grp = group
			}
			extra := resolveTask{extraID, name, grp, live, now.Add(-time.Duration(age) * time.Minute)}
			putTask(t, s, extra)
			if useIndex {
				if err := s.indexName(grp, name, extraID); err != nil {
					t.Fatal(err)
				}
				defer s.unindexName(grp, name, extraID)
			}
			defer os.RemoveAll(s.TaskDir(extraID))
			ts = append(ts, extra)
		}
		check := func(ref string) {
			t.Helper()
			wantID, wantKind, candidates := expectResolve(append([]resolveTask(nil), ts...), group, ref)
			got, err := m.Resolve(ref)
			if wantKind == "" {
				if err != nil || got != wantID {
					t.Fatalf("Resolve(%q) = %q, %v; want %s (store %v)", ref, got, err, wantID, ts)
				}
			} else {
				if err == nil || KindOf(err) != wantKind {
					t.Fatalf("Resolve(%q) = %q, %v; want a %s error (store %v)", ref, got, err, wantKind, ts)
				}
				if got != "" {
					t.Fatalf("Resolve(%q) returned %q with its error %v", ref, got, err)
				}
				for _, id := range candidates {
					if !strings.Contains(err.Error(), id) {
						t.Fatalf("Resolve(%q): ambiguity error does not list %s: %v", ref, id, err)
					}
				}
				if wantKind == KindNotFound && !strings.Contains(err.Error(), fmt.Sprintf("%q", ref)) {
					t.Fatalf("Resolve(%q): not-found error does not quote the reference: %v", ref, err)
				}
				return
			}
			// Never an unrelated task.
			for _, rt := range ts {
				if rt.id == got && got != ref && rt.name != ref && !(strings.HasPrefix(ref, IDPrefix) && strings.HasPrefix(got, ref)) {
					t.Fatalf("Resolve(%q) = %s, a task named %q: unrelated to the reference", ref, got, rt.name)
				}
			}
		}
		check(ref)
		if ValidateName(name) == nil {
			check(name)
			if got, err := m.Resolve(extraID); err != nil || got != extraID {
				t.Fatalf("Resolve(%s) by its own id = %q, %v", extraID, got, err)
			}
		}
	})
}
