package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// ---------------------------------------------------------------------
// 2. Environment secrecy

// TestSecurityEnvNotShown: values of a task's environment (--env, a
// declared task's env:, MCP start_task's env, and the starting client's
// own environment that bgmux records as base_env) reach the task and
// appear in none of list, status, their --json forms, error messages,
// doctor, attach --print, up/down/stop/restart results, MCP results, tmux
// window names, options and environments, or any process's command line.
// bgmux has no command that shows them (the spec sidecar, mode 0600,
// holds them); keys are not shown either.
func TestSecurityEnvNotShown(t *testing.T) {
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(6)
	cliV, declV, baseV, mcpV := "canary-cli-"+token, "canary-decl-"+token, "canary-base-"+token, "canary-mcp-"+token
	explicit := []string{cliV, declV, mcpV}
	all := append(explicit, baseV)
	dumps := filepath.Join(root, "dumps")
	if err := os.Mkdir(dumps, 0o700); err != nil {
		t.Fatal(err)
	}
	script := `env > "$1.tmp" && mv "$1.tmp" "$1"; echo up; sleep 300`
	cfg, err := yaml.Marshal(map[string]any{"tasks": map[string]any{
		"decl": map[string]any{
			"command": []string{"sh", "-c", script, "sh", filepath.Join(dumps, "decl")},
			"env":     map[string]string{"DECL_SECRET": declV},
			"ready":   "^up",
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.useConfig(string(cfg))
	e.Extra = append(e.Extra, "BGMUX_CLIENT_SECRET="+baseV)

	var outputs []string
	add := func(what string, s ...string) {
		outputs = append(outputs, what+"\x00"+strings.Join(s, "\x00"))
	}
	runAll := func(args ...string) result {
		r := e.run(args...)
		add(strings.Join(args, " "), r.Out, r.Err)
		return r
	}

	sec := e.start("--name", "sec", "--env", "SECRET="+cliV, "--env", "PLAIN=p", "--", "sh", "-c", script, "sh", filepath.Join(dumps, "cli"))
	add("start --json", e.must("status", "--json", sec.ID))
	if r := runAll("up", "--json"); r.Code != 0 {
		t.Fatalf("up: %d %s", r.Code, r.Err)
	}
	c := mcpConnect(t, e)
	res := c.ok("start_task", map[string]any{"command": []string{"sh", "-c", script, "sh", filepath.Join(dumps, "mcp")},
		"name": "secmcp", "env": map[string]string{"SECRET": mcpV}, "wait_for": "^up", "timeout_s": 20}, nil)
	add("mcp start_task", mcpText(res), mcpJSON(res.StructuredContent))

	// The values did reach the tasks.
	for file, want := range map[string][]string{"cli": {"SECRET=" + cliV, "BGMUX_CLIENT_SECRET=" + baseV},
		"decl": {"DECL_SECRET=" + declV}, "mcp": {"SECRET=" + mcpV}} {
		var b []byte
		if !poll(20*time.Second, func() bool {
			b, _ = os.ReadFile(filepath.Join(dumps, file))
			return len(b) > 0
		}) {
			t.Fatalf("task %s never wrote its environment", file)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w+"\n") {
				t.Fatalf("task %s lacks %s in its environment:\n%s", file, w, b)
			}
		}
	}
	secWaitLine(t, secRunner{e: e}, "sec", "^up")
	secWaitLine(t, secRunner{e: e}, "decl", "^up")

	for _, args := range [][]string{
		{"list"}, {"list", "--all"}, {"list", "--json"}, {"list", "--all", "--json"}, {"status"},
		{"status", "sec"}, {"status", "--json", "sec"}, {"status", "decl"}, {"status", "--json", "decl"},
		{"status", "--json", "secmcp"}, {"logs", "sec"}, {"screen", "sec"}, {"attach", "--print", "sec"},
		{"doctor"}, {"doctor", "--json"}, {"up", "--json"}, {"wait", "sec", "--for", "^up", "--json"},
		// Errors, with the secret in the same invocation.
		{"start", "--env", "BAD-KEY=" + cliV, "--", "true"},
		{"start", "--json", "--env", "BAD-KEY=" + cliV, "--", "true"},
		{"start", "--env", "SECRET=" + cliV, "--cwd", "/nonexistent/dir", "--", "true"},
		{"start", "--env", "SECRET=" + cliV, "--name", "bad name", "--", "true"},
		{"start", "--env", "SECRET=" + cliV, "--restart", "bogus", "--", "true"},
		{"start", "--json", "--env", "SECRET=" + cliV, "--name", "sec", "--", "true"},
		{"start", "--env", "SECRET=" + cliV, "--wait-for", "(", "--", "true"},
		{"start", "--env", "SECRET=" + cliV},
		// Lifecycle results.
		{"restart", "--json", "sec"}, {"stop", "--json", "sec"}, {"down", "--json"},
	} {
		runAll(args...)
	}

	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"get_task", map[string]any{"task": "sec"}},
		{"get_task", map[string]any{"task": "secmcp"}},
		{"list_tasks", map[string]any{"all": true}},
		{"list_tasks", nil},
		{"start_task", map[string]any{"command": "true", "env": map[string]string{"BAD-KEY": mcpV}}},
		{"start_task", map[string]any{"command": "true", "cwd": "/nonexistent/dir", "env": map[string]string{"SECRET": mcpV}}},
		{"start_task", map[string]any{"command": "true", "name": "secmcp", "env": map[string]string{"SECRET": mcpV}}},
		{"start_task", map[string]any{"command": "true", "wait_for": "(", "env": map[string]string{"SECRET": mcpV}}},
		{"restart_task", map[string]any{"task": "secmcp"}},
		{"stop_task", map[string]any{"task": "secmcp", "grace_s": 5}},
	} {
		res := c.call(call.tool, call.args)
		add("mcp "+call.tool, mcpText(res), mcpJSON(res.StructuredContent))
	}
	add("mcp stderr", c.stderr.String())

	// tmux: window names, every window's options, the global and session
	// options and environments. The client's own environment (baseV) is
	// tmux's business: the server copies the environment of the process
	// that started it, as with any tmux use, so only the explicit values
	// are checked there.
	var tmuxOut []string
	list, err := e.tmux("list-windows", "-a", "-F", "#{session_name}\t#{window_id}\t#{window_name}\t#{pane_title}\t#{pane_start_command}\t#{pane_current_command}\t#{window_flags}")
	if err != nil {
		t.Fatalf("list-windows: %v %s", err, list)
	}
	tmuxOut = append(tmuxOut, list)
	for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
		f := strings.Split(l, "\t")
		if len(f) < 2 {
			continue
		}
		for _, args := range [][]string{{"show-options", "-w", "-t", f[1]}, {"show-options", "-p", "-t", f[1]},
			{"show-options", "-t", f[0]}, {"show-environment", "-t", f[0]}} {
			out, _ := e.tmux(args...)
			tmuxOut = append(tmuxOut, strings.Join(args, " ")+": "+out)
		}
	}
	for _, args := range [][]string{{"show-options", "-g"}, {"show-options", "-s"}, {"show-options", "-gw"}, {"show-environment", "-g"}, {"list-sessions"}} {
		out, _ := e.tmux(args...)
		tmuxOut = append(tmuxOut, strings.Join(args, " ")+": "+out)
	}

	for _, o := range outputs {
		what, rest, _ := strings.Cut(o, "\x00")
		for _, v := range all {
			if strings.Contains(rest, v) {
				t.Errorf("%s shows the environment value %q:\n%s", what, v, strings.ReplaceAll(rest, "\x00", "\n"))
			}
		}
	}
	for _, o := range tmuxOut {
		for _, v := range explicit {
			if strings.Contains(o, v) {
				t.Errorf("tmux shows the task environment value %q: %s", v, o)
			}
		}
	}
	// No process on the machine carries a value on its command line:
	// env never travels in argv (supervisor, tmux, pipe, task).
	procs, _ := os.ReadDir("/proc")
	for _, d := range procs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, v := range all {
			if bytes.Contains(cmdline, []byte(v)) {
				t.Errorf("process %s has the environment value %q on its command line: %q", d.Name(), v, cmdline)
			}
		}
	}
	// The values are on disk only in the tasks' specs, which are 0600.
	specs, _ := filepath.Glob(filepath.Join(e.State, "tasks", "*", "spec"))
	for _, p := range specs {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("spec %s: %v, want mode 0600", p, secMode(st, err))
		}
	}
}
