package tasks

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgmux/bgmux/fileutil"
)

func TestNewIDUniqueAndTypeable(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	re := regexp.MustCompile(`^bg-[0-9a-km-np-z]{6}$`)
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				id, err := s.NewID()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("id %s handed out twice", id)
				}
				seen[id] = true
				mu.Unlock()
				if !re.MatchString(id) {
					t.Errorf("id %q is not of the form bg-xxxxxx", id)
				}
			}
		}()
	}
	wg.Wait()
	st, err := os.Stat(s.Dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode: %v %v, want 0700", st.Mode().Perm(), err)
	}
	ids, _ := s.IDs()
	if len(ids) != 400 {
		t.Fatalf("IDs() = %d entries, want 400", len(ids))
	}
}

func TestAtomicSidecars(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "run")
	if err := fileutil.WriteJSON(p, Run{Run: 1, SupervisorPID: 41, PID: 42, PGID: 42}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("sidecar mode %v, want 0600", st.Mode().Perm())
	}
	var r Run
	if err := readJSON(p, &r); err != nil || r.PID != 42 {
		t.Fatalf("read back %+v %v", r, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temp files left behind: %v", ents)
	}
	if err := os.WriteFile(p, []byte(`{"run": 1, "pid": 4`), 0o600); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError
	if err := readJSON(p, &r); !errors.As(err, &ce) {
		t.Fatalf("truncated sidecar: %v, want CorruptError", err)
	}
	if b, _ := os.ReadFile(p); string(b) != `{"run": 1, "pid": 4` {
		t.Fatalf("corrupt sidecar was changed by reading it: %q", b)
	}
}

func TestLockExcludes(t *testing.T) {
	s := OpenStore(filepath.Join(t.TempDir(), "state"))
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u, err := s.Lock()
		if err != nil {
			t.Error(err)
		} else {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("second Lock succeeded while the first was held")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("second Lock never got the lock after release")
	}
}

func TestDefaultGroup(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "My Repo.v2")
	sub := filepath.Join(repo, "pkg", "deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if g := DefaultGroup(sub); g != "deep" {
		t.Fatalf("no git: DefaultGroup = %q, want deep", g)
	}
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if g := DefaultGroup(sub); g != "My-Repo-v2" {
		t.Fatalf("in git repo: DefaultGroup = %q, want My-Repo-v2", g)
	}
	if g := DefaultGroup("/"); g != "default" {
		t.Fatalf("DefaultGroup(/) = %q, want default", g)
	}
}

func TestValidateGroupAcceptsEveryDefault(t *testing.T) {
	for _, dir := range []string{"/x/bg-abc123", "/x/My Repo", "/x/_under", "/x/-dash", "/x/" + strings.Repeat("long", 30)} {
		g := DefaultGroup(dir)
		if err := ValidateGroup(g); err != nil {
			t.Errorf("DefaultGroup(%q) = %q, which ValidateGroup rejects: %v", dir, g, err)
		}
	}
	for _, g := range []string{"", "a b", "x:y", "-x", strings.Repeat("g", 65)} {
		if ValidateGroup(g) == nil {
			t.Errorf("ValidateGroup(%q) = nil, want an error", g)
		}
	}
}
