package tests

import (
	"encoding/json"
	"testing"
)

// TestTasksNamedLikeHelp checks that tasks named h and help are
// addressed like any other name: `bgmux status h` shows the task, it does
// not print the command's help (urfave/cli's built-in help subcommand).
func TestTasksNamedLikeHelp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, name := range []string{"h", "help"} {
		tk := e.start("--name", name, "--", "sleep", "300")
		for _, cmd := range []string{"status", "logs", "screen", "wait"} {
			args := []string{cmd, name, "--json"}
			if cmd == "wait" {
				args = append(args, "--timeout", "0.1s")
			}
			r := e.run(args...)
			var v map[string]any
			if err := json.Unmarshal([]byte(r.Out), &v); err != nil {
				t.Fatalf("bgmux %q: exit %d, not one JSON document: %v\n%s%s", args, r.Code, err, r.Out, r.Err)
			}
			if cmd == "status" && v["id"] != tk.ID {
				t.Fatalf("bgmux status %s gave %v, want task %s", name, v["id"], tk.ID)
			}
		}
		e.must("stop", name)
		if got := e.status(name); got.ID != tk.ID || got.State != "killed" {
			t.Fatalf("after stop %s: %+v", name, got)
		}
	}
}
