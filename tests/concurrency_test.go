package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const edgeParallel = 20

// edgeStartAll runs `bgmux start --json <args(i)>` for i in 0..n-1 from n
// goroutines released at once, and returns the started tasks by i.
func edgeStartAll(t *testing.T, e *env, n int, args func(i int) []string) []task {
	t.Helper()
	results := loadRunAll(e, n, func(i int) []string {
		return append([]string{"start", "--json"}, args(i)...)
	})
	tasks := make([]task, n)
	for i, r := range results {
		if r.Code != 0 {
			t.Fatalf("concurrent start %d (%q): exit %d\nstdout: %s\nstderr: %s", i, args(i), r.Code, r.Out, r.Err)
		}
		edgeOneJSON(t, "start --json", r.Out, &tasks[i])
	}
	return tasks
}

// edgeCheckDistinct checks that the tasks have distinct ids and windows,
// that tmux shows exactly those windows with their @bgmux_id, and that
// each task's spec and run sidecars are valid JSON.
func edgeCheckDistinct(t *testing.T, e *env, ts []task) {
	t.Helper()
	ids, windows := map[string]bool{}, map[string]string{}
	for _, tk := range ts {
		if ids[tk.ID] {
			t.Fatalf("task id %s given twice", tk.ID)
		}
		ids[tk.ID] = true
		if tk.Tmux.Window == "" || tk.Tmux.Pane == "" {
			t.Fatalf("task %s has no window: %+v", tk.ID, tk.Tmux)
		}
		if other, dup := windows[tk.Tmux.Window]; dup {
			t.Fatalf("tasks %s and %s share window %s", other, tk.ID, tk.Tmux.Window)
		}
		windows[tk.Tmux.Window] = tk.ID
		for _, f := range []string{"spec", "run"} {
			// start returns once the run sidecar exists, unless the
			// supervisor was slower than start's own deadline: allow that.
			var data []byte
			var err error
			poll(30*time.Second, func() bool {
				data, err = os.ReadFile(filepath.Join(e.State, "tasks", tk.ID, f))
				return err == nil
			})
			if err != nil || !json.Valid(data) {
				t.Fatalf("task %s: %s sidecar unreadable or not JSON (%v): %q", tk.ID, f, err, data)
			}
		}
	}
	panes, ok := edgePanes(e)
	if !ok {
		t.Fatal("no tmux server after the starts")
	}
	seen := map[string]string{}
	for _, p := range panes {
		f := strings.Fields(p) // pane window @bgmux_id
		if len(f) != 3 {
			t.Fatalf("pane without a task id: %q (all: %q)", p, panes)
		}
		if prev, dup := seen[f[2]]; dup {
			t.Fatalf("task %s has two windows: %s and %s", f[2], prev, f[1])
		}
		seen[f[2]] = f[1]
		if windows[f[1]] != f[2] {
			t.Fatalf("tmux window %s carries @bgmux_id %s; bgmux says it is task %q's", f[1], f[2], windows[f[1]])
		}
	}
	if len(panes) != len(ts) {
		t.Fatalf("tmux has %d panes, want %d: %q", len(panes), len(ts), panes)
	}
}

// Many starts at once on a server that does not exist yet, into groups
// (sessions) that do not exist yet: the server- and session-creation races.
func TestConcurrentStartFreshServer(t *testing.T) {
	e := newEnv(t)
	if _, ok := edgePanes(e); ok {
		t.Fatal("a tmux server already runs on the test socket")
	}
	release := filepath.Join(e.Dir, "release")
	script := `until [ -e release ]; do sleep 0.02; done; echo "job $N done"; exit $N`
	ts := edgeStartAll(t, e, edgeParallel, func(i int) []string {
		return []string{"--name", fmt.Sprintf("job%d", i), "--group", fmt.Sprintf("fresh%d", i%3),
			"--env", fmt.Sprintf("N=%d", i+1), "--", script}
	})
	for i, tk := range ts {
		if tk.Name != fmt.Sprintf("job%d", i) || tk.Group != fmt.Sprintf("fresh%d", i%3) {
			t.Fatalf("start %d: name %q group %q", i, tk.Name, tk.Group)
		}
		if tk.State != "running" && tk.State != "starting" {
			t.Fatalf("start %d: state %q, want running", i, tk.State)
		}
	}
	edgeCheckDistinct(t, e, ts)

	var all []task
	edgeOneJSON(t, "list --all --json", e.must("list", "--all", "--json"), &all)
	if len(all) != edgeParallel {
		t.Fatalf("list --all: %d tasks, want %d", len(all), edgeParallel)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, tk := range ts {
		got := e.waitState(tk.ID, 30*time.Second, func(t task) bool {
			return t.State == "exited" || t.State == "killed" || t.State == "lost"
		})
		if got.State != "exited" || got.ExitCode == nil || *got.ExitCode != i+1 {
			t.Fatalf("task %d: %+v, want exited %d", i, got, i+1)
		}
		e.waitLog(tk.ID, fmt.Sprintf("job %d done", i+1), 10*time.Second)
	}
}

// Concurrent starts of the same command without --name get unique
// derived names (sleep, sleep-2, ... sleep-20), and concurrent stops end
// them all.
func TestConcurrentStartDerivedNames(t *testing.T) {
	e := newEnv(t)
	// The server and group exist already here; the fresh case is above.
	first := e.start("--name", "warmup", "--", "true")
	e.waitFinished(first.ID)
	e.must("rm", first.ID)

	ts := edgeStartAll(t, e, edgeParallel, func(int) []string { return []string{"--", "sleep", "1000"} })
	names := map[string]bool{}
	for _, tk := range ts {
		if names[tk.Name] {
			t.Fatalf("derived name %q given twice", tk.Name)
		}
		names[tk.Name] = true
	}
	for i := 1; i <= edgeParallel; i++ {
		want := "sleep"
		if i > 1 {
			want += "-" + strconv.Itoa(i)
		}
		if !names[want] {
			got := make([]string, 0, len(names))
			for n := range names {
				got = append(got, n)
			}
			sort.Strings(got)
			t.Fatalf("derived names %q lack %q", got, want)
		}
	}
	edgeCheckDistinct(t, e, ts)
	for _, tk := range ts {
		if st := e.status(tk.Name); st.ID != tk.ID || st.State != "running" {
			t.Fatalf("status %s: %+v, want task %s running", tk.Name, st, tk.ID)
		}
	}

	// Stop them all at once, by name.
	var wg sync.WaitGroup
	stops := make([]result, len(ts))
	for i, tk := range ts {
		wg.Add(1)
		go func(i int, name string) {
			defer wg.Done()
			stops[i] = edgeRunBin(e, e.Dir, "stop", "--json", name)
		}(i, tk.Name)
	}
	wg.Wait()
	for i, r := range stops {
		if r.Code != 0 {
			t.Fatalf("stop %s: exit %d: %s", ts[i].Name, r.Code, r.Err)
		}
		edgeOneJSON(t, "stop --json", r.Out, nil)
	}
	for _, tk := range ts {
		got := e.waitState(tk.ID, 30*time.Second, func(t task) bool { return t.State != "running" && t.State != "starting" })
		if got.State != "killed" || got.Signal == nil || *got.Signal != "SIGTERM" {
			t.Fatalf("task %s after stop: %+v, want killed by SIGTERM", tk.Name, got)
		}
		if tk.PID != nil && pidAlive(*tk.PID) {
			t.Fatalf("task %s: pid %d still alive", tk.Name, *tk.PID)
		}
	}
}

// Concurrent starts with the same explicit --name: exactly one wins, the
// others are refused as a conflict and leave nothing behind.
func TestConcurrentStartSameName(t *testing.T) {
	e := newEnv(t)
	const n = 8
	results := make([]result, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			results[i] = edgeRunBin(e, e.Dir, "start", "--json", "--name", "web", "--", "sleep", "1000")
		}(i)
	}
	close(gate)
	wg.Wait()
	var winner task
	wins := 0
	for _, r := range results {
		switch r.Code {
		case 0:
			wins++
			edgeOneJSON(t, "start --json", r.Out, &winner)
		case 1:
			var doc struct {
				Error struct{ Kind, Message string } `json:"error"`
			}
			edgeOneJSON(t, "start --json (conflict)", r.Out, &doc)
			if doc.Error.Kind != "conflict" || !strings.Contains(r.Err, "web") || !strings.HasPrefix(r.Err, "bgmux: ") {
				t.Fatalf("losing start: %s / %s, want a conflict naming web", r.Out, r.Err)
			}
		default:
			t.Fatalf("start: exit %d: %s", r.Code, r.Err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d starts named web succeeded, want exactly 1", wins)
	}
	if dirs := edgeTaskDirs(t, e); len(dirs) != 1 || dirs[0] != winner.ID {
		t.Fatalf("task entries %q, want only %s", dirs, winner.ID)
	}
	edgeCheckDistinct(t, e, []task{winner})
	e.must("kill", "web")
	e.waitState("web", 10*time.Second, func(t task) bool { return t.State == "killed" })
}
