package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// tmuxCallsOf runs bgmux with BGMUX_DEBUG_TMUX=1 and returns how many tmux
// processes it ran (the trace prints one "bgmux: tmux [...]" line each).
func tmuxCallsOf(t *testing.T, e *env, args ...string) (int, result) {
	t.Helper()
	saved := e.Extra
	e.Extra = append(append([]string(nil), saved...), "BGMUX_DEBUG_TMUX=1")
	r := e.run(args...)
	e.Extra = saved
	if r.Code != 0 {
		t.Fatalf("bgmux %q: exit %d\nstdout: %s\nstderr: %s", args, r.Code, r.Out, r.Err)
	}
	n := 0
	for _, l := range strings.Split(r.Err, "\n") {
		if strings.HasPrefix(l, "bgmux: tmux ") {
			n++
		}
	}
	return n, r
}

// listCount is how many tasks bgmux list --json prints with args.
func listCount(t *testing.T, e *env, args ...string) int {
	t.Helper()
	var ts []task
	if err := json.Unmarshal([]byte(e.must(append([]string{"list", "--json"}, args...)...)), &ts); err != nil {
		t.Fatal(err)
	}
	return len(ts)
}

// TestNoTmuxCallPerTask checks the scale rule of DESIGN.md at a size where
// a per-task loop would show: with 40 finished tasks in 4 groups and 8
// live ones, list, status, prune and rm of many tasks each run a fixed
// number of tmux processes (none for the reads), whatever the number of
// tasks they touch.
func TestNoTmuxCallPerTask(t *testing.T) {
	e := newEnv(t)
	const groups, perGroup, live = 4, 10, 8
	var finished []string
	for g := 0; g < groups; g++ {
		for i := 0; i < perGroup; i++ {
			tk := e.start("--group", fmt.Sprintf("sg%d", g), "--name", fmt.Sprintf("f%d", i), "--", "true")
			finished = append(finished, tk.ID)
		}
	}
	var sleepers []string
	for i := 0; i < live; i++ {
		sleepers = append(sleepers, e.start("--name", fmt.Sprintf("s%d", i), "--", "sleep", "300").ID)
	}
	if !poll(60*time.Second, func() bool { return listCount(t, e, "--all", "--state", "exited") == groups*perGroup }) {
		t.Fatalf("the %d short tasks did not all exit", groups*perGroup)
	}

	for _, args := range [][]string{
		{"list", "--all", "--json"},
		{"list", "--json"},
		{"list", "--group", "sg1", "--json"},
		{"status", "--json", sleepers[3]},
		{"status", "--json", "s5"},
		{"status", "--json", finished[7]},
	} {
		if n, _ := tmuxCallsOf(t, e, args...); n != 0 {
			t.Errorf("bgmux %q ran tmux %d times; reads must not call tmux", args, n)
		}
	}

	// prune of a whole group, and rm of many ids across groups: one pass
	// over tmux (list the panes, then close the windows in one command
	// list), not one call per task.
	if n, _ := tmuxCallsOf(t, e, "prune", "--group", "sg0"); n > 2 {
		t.Errorf("prune of %d tasks ran tmux %d times, want at most 2", perGroup, n)
	}
	if got := listCount(t, e, "--group", "sg0"); got != 0 {
		t.Fatalf("prune left %d tasks in sg0", got)
	}
	rm := append([]string{"rm"}, finished[perGroup:3*perGroup]...)
	if n, _ := tmuxCallsOf(t, e, rm...); n > 2 {
		t.Errorf("rm of %d tasks ran tmux %d times, want at most 2", 2*perGroup, n)
	}
	if got := listCount(t, e, "--all", "--state", "exited"); got != perGroup {
		t.Fatalf("after prune and rm, %d finished tasks are left, want %d", got, perGroup)
	}
	if n, _ := tmuxCallsOf(t, e, "prune", "--all"); n > 2 {
		t.Errorf("prune --all ran tmux %d times, want at most 2", n)
	}
	if got := listCount(t, e, "--all"); got != live {
		t.Fatalf("after prune --all, %d tasks are left, want the %d live ones", got, live)
	}
}
