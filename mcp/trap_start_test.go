package mcp

import (
	"strings"
	"testing"
)

// TestTrapStartTaskReuseAndCannotRun: start_task with reuse gives back
// only a task running the same command (same env keys: values may
// differ) and says so (reused), and a program that cannot be executed is an isError result.
func TestTrapStartTaskReuseAndCannotRun(t *testing.T) {
	f := newFixture(t)
	// start_task's result is start --json's: the task object and reused.
	var tk, again struct {
		wtask
		Reused *bool `json:"reused"`
	}
	f.ok("start_task", map[string]any{"command": "sleep 300", "name": "web", "env": map[string]string{"A": "1"}}, &tk)
	res := f.ok("start_task", map[string]any{"command": "sleep 300", "name": "web", "env": map[string]string{"A": "2"}, "reuse": true}, &again)
	if again.ID != tk.ID || !strings.HasPrefix(text(res), "Reused") {
		t.Fatalf("start_task reuse: %+v\n%s", again, text(res))
	}
	if tk.Reused == nil || *tk.Reused || again.Reused == nil || !*again.Reused {
		t.Fatalf("start_task reused: %v for a new task, %v for a reuse; want false and true", tk.Reused, again.Reused)
	}
	if msg := f.fail("start_task", map[string]any{"command": "sleep 301", "name": "web", "env": map[string]string{"A": "1"}, "reuse": true}); !strings.Contains(msg, `"kind":"conflict"`) || !strings.Contains(msg, "runs the command") {
		t.Fatalf("start_task reuse of a task running another command: %s", msg)
	}
	if msg := f.fail("start_task", map[string]any{"command": []string{"nosuchcommand-xyz", "a"}}); !strings.Contains(msg, "cannot run nosuchcommand-xyz") {
		t.Fatalf("start_task of a missing program: %s", msg)
	}
}
