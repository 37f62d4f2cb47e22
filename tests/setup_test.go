package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// setupEnv is an env whose HOME and XDG_CONFIG_HOME are private, with the
// project a git repository at e.Dir (setup runs in a subdirectory of it).
func setupEnv(t *testing.T) (*env, string) {
	e := newEnv(t)
	home := filepath.Join(filepath.Dir(e.Dir), "home")
	for _, d := range []string{home, filepath.Join(e.Dir, ".git"), filepath.Join(e.Dir, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.Extra = append(e.Extra, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "xdg"))
	return e, filepath.Join(e.Dir, "sub")
}

func (e *env) setup(dir string, args ...string) result {
	e.t.Helper()
	return e.runIn(dir, append([]string{"setup"}, args...)...)
}

func readJSONFile(t *testing.T, p string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", p, err, b)
	}
	return doc
}

// snapshot is every regular file under dir, but for the state dir (the
// tasks' own), with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() && info.Name() == "state" {
			return filepath.SkipDir
		}
		if err == nil && info.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			out[p] = string(b)
		}
		return nil
	})
	return out
}

func sameFiles(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for p, b := range before {
		if a, ok := after[p]; !ok || a != b {
			t.Errorf("%s changed %s", what, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s created %s", what, p)
		}
	}
}

// TestSetupOpenCodeFresh: in a project without OpenCode config, setup
// opencode (run in a subdirectory) writes opencode.json at the git
// top-level with mcp.bgmux running this bgmux, and the plugin with its
// path; a second run changes nothing and says so.
func TestSetupOpenCodeFresh(t *testing.T) {
	e, sub := setupEnv(t)
	r := e.setup(sub, "opencode")
	if r.Code != 0 {
		t.Fatalf("setup opencode: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	cfg := readJSONFile(t, filepath.Join(e.Dir, "opencode.json"))
	entry, _ := cfg["mcp"].(map[string]any)["bgmux"].(map[string]any)
	if entry["type"] != "local" || entry["enabled"] != true {
		t.Errorf("mcp.bgmux: %v", entry)
	}
	if cmd, _ := json.Marshal(entry["command"]); string(cmd) != `["`+bgmuxBin+`","mcp"]` {
		t.Errorf("mcp.bgmux.command is %s, want [%q, \"mcp\"]", cmd, bgmuxBin)
	}
	plugin, err := os.ReadFile(filepath.Join(e.Dir, ".opencode", "plugin", "bgmux.js"))
	if err != nil {
		t.Fatalf("no plugin: %v\n%s", err, r.Out)
	}
	if q, _ := json.Marshal(bgmuxBin); !strings.Contains(string(plugin), "const BGMUX = "+string(q)) {
		t.Errorf("the plugin does not name this bgmux (%s)", bgmuxBin)
	}
	if _, err := os.Stat(filepath.Join(sub, "opencode.json")); err == nil {
		t.Errorf("setup wrote opencode.json in the subdirectory, not at the project's top-level")
	}
	before := snapshot(t, filepath.Dir(e.Dir))
	r = e.setup(sub, "opencode")
	if r.Code != 0 || !strings.Contains(r.Out, "already set up, nothing changed") {
		t.Errorf("second setup opencode: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	sameFiles(t, "a second setup opencode", before, snapshot(t, filepath.Dir(e.Dir)))
}

// TestSetupOpenCodeMergesExisting: an opencode.jsonc with comments, other
// keys and another MCP server keeps all of it, in order; only mcp.bgmux
// is added. An outdated mcp.bgmux.command is replaced, its other keys kept.
func TestSetupOpenCodeMergesExisting(t *testing.T) {
	e, sub := setupEnv(t)
	orig := `{
  // my settings
  "$schema": "https://opencode.ai/config.json",
  "theme": "tokyonight",
  "mcp": {
    "docs": { "type": "remote", "url": "http://127.0.0.1:9/mcp" }, /* keep me */
  },
  "model": "anthropic/claude-sonnet-4-5",
}
`
	p := filepath.Join(e.Dir, "opencode.jsonc")
	if err := os.WriteFile(p, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.setup(sub, "opencode"); r.Code != 0 {
		t.Fatalf("setup opencode: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	got, _ := os.ReadFile(p)
	if _, err := os.Stat(filepath.Join(e.Dir, "opencode.json")); err == nil {
		t.Errorf("setup wrote opencode.json beside the existing opencode.jsonc")
	}
	// Every line of the original is there, in the same order.
	rest := string(got)
	for _, line := range strings.Split(strings.TrimSpace(orig), "\n") {
		i := strings.Index(rest, line)
		if i < 0 {
			t.Fatalf("the merged config lost or reordered %q:\n%s", line, got)
		}
		rest = rest[i+len(line):]
	}
	if !strings.Contains(string(got), `"bgmux": {`) || !strings.Contains(string(got), `"`+bgmuxBin+`"`) {
		t.Fatalf("no mcp.bgmux in the merged config:\n%s", got)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("the config's mode changed to %v", st.Mode().Perm())
	}

	// An entry of an older setup: another path, an environment of the user's.
	old := `{"mcp": {"bgmux": {"type": "local", "command": ["/old/bgmux", "mcp"], "environment": {"BGMUX_SOCKET": "mine"}, "enabled": true}}}`
	os.WriteFile(p, []byte(old), 0o600)
	if r := e.setup(sub, "opencode"); r.Code != 0 || !strings.Contains(r.Out, "mcp.bgmux.command") {
		t.Fatalf("setup opencode over an old entry: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	b, _ := os.ReadFile(p)
	var doc struct {
		MCP struct {
			Bgmux struct {
				Command     []string          `json:"command"`
				Environment map[string]string `json:"environment"`
			} `json:"bgmux"`
		} `json:"mcp"`
	}
	json.Unmarshal(b, &doc)
	if len(doc.MCP.Bgmux.Command) != 2 || doc.MCP.Bgmux.Command[0] != bgmuxBin || doc.MCP.Bgmux.Environment["BGMUX_SOCKET"] != "mine" {
		t.Errorf("the old entry was not updated in place: %s", b)
	}
}

// TestSetupOpenCodePrintWritesNothing: --print shows both files and
// writes neither.
func TestSetupOpenCodePrintWritesNothing(t *testing.T) {
	e, sub := setupEnv(t)
	before := snapshot(t, filepath.Dir(e.Dir))
	r := e.setup(sub, "opencode", "--print")
	if r.Code != 0 {
		t.Fatalf("setup opencode --print: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	for _, want := range []string{"would write " + filepath.Join(e.Dir, "opencode.json"), `"bgmux": {`,
		"would write " + filepath.Join(e.Dir, ".opencode", "plugin", "bgmux.js"), "export const BgmuxPlugin"} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("--print does not show %q:\n%s", want, r.Out)
		}
	}
	sameFiles(t, "setup opencode --print", before, snapshot(t, filepath.Dir(e.Dir)))
}

// TestSetupOpenCodeMalformed: a config that is not JSON is an error with
// exit status 2 naming the file and the place, and nothing is written.
func TestSetupOpenCodeMalformed(t *testing.T) {
	e, sub := setupEnv(t)
	p := filepath.Join(e.Dir, "opencode.json")
	os.WriteFile(p, []byte("{\n  \"theme\": \"dark\"\n  \"model\": \"x\"\n}\n"), 0o644)
	before := snapshot(t, filepath.Dir(e.Dir))
	r := e.setup(sub, "opencode")
	if r.Code != 2 || !strings.Contains(r.Err, p) || !strings.Contains(r.Err, "line 3") || !strings.Contains(r.Err, "nothing was changed") {
		t.Errorf("setup opencode on a malformed config: exit %d, stderr %q; want 2 naming %s, line 3", r.Code, r.Err, p)
	}
	sameFiles(t, "setup opencode on a malformed config", before, snapshot(t, filepath.Dir(e.Dir)))
	// A member of the path that is not an object is no better.
	os.WriteFile(p, []byte(`{"mcp": ["x"]}`), 0o644)
	before = snapshot(t, filepath.Dir(e.Dir))
	if r := e.setup(sub, "opencode"); r.Code != 2 {
		t.Errorf("setup opencode with mcp an array: exit %d: %s", r.Code, r.Err)
	}
	sameFiles(t, "setup opencode with mcp an array", before, snapshot(t, filepath.Dir(e.Dir)))
	if r := e.setup(sub, "opencode", "extra"); r.Code != 2 {
		t.Errorf("setup opencode extra: exit %d", r.Code)
	}
	if r := e.setup(sub, "opencode", "--bogus"); r.Code != 2 || !strings.Contains(r.Err, "see bgmux setup opencode --help") {
		t.Errorf("setup opencode --bogus: exit %d, stderr %q", r.Code, r.Err)
	}
}

// TestSetupOpenCodeGlobal: --global writes into $XDG_CONFIG_HOME/opencode,
// not into the project.
func TestSetupOpenCodeGlobal(t *testing.T) {
	e, sub := setupEnv(t)
	home := filepath.Join(filepath.Dir(e.Dir), "home")
	if r := e.setup(sub, "opencode", "--global", "--bin", "bgmux"); r.Code != 0 {
		t.Fatalf("setup opencode --global: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	cfg := readJSONFile(t, filepath.Join(home, "xdg", "opencode", "opencode.json"))
	if cmd, _ := json.Marshal(cfg["mcp"].(map[string]any)["bgmux"].(map[string]any)["command"]); string(cmd) != `["bgmux","mcp"]` {
		t.Errorf("--bin bgmux: command %s", cmd)
	}
	if _, err := os.Stat(filepath.Join(home, "xdg", "opencode", "plugin", "bgmux.js")); err != nil {
		t.Errorf("no global plugin: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.Dir, "opencode.json")); err == nil {
		t.Errorf("--global wrote into the project")
	}
}

// TestSetupClaude: the project's .mcp.json gets mcpServers.bgmux, and with
// --hook .claude/settings.json gets a SessionStart hook next to the hooks
// already there; both idempotent; --print writes nothing; a malformed
// settings file is exit 2 and changes nothing; --global runs claude mcp add
// --scope user (here a stand-in claude on PATH) unless claude mcp get finds it.
func TestSetupClaude(t *testing.T) {
	e, sub := setupEnv(t)
	settings := filepath.Join(e.Dir, ".claude", "settings.json")
	os.MkdirAll(filepath.Dir(settings), 0o755)
	orig := `{
  "permissions": {"allow": ["Bash(ls:*)"]},
  "hooks": {
    "SessionStart": [
      {"matcher": "startup", "hooks": [{"type": "command", "command": "echo hi"}]}
    ]
  }
}
`
	os.WriteFile(settings, []byte(orig), 0o644)
	before := snapshot(t, filepath.Dir(e.Dir))
	if r := e.setup(sub, "claude", "--hook", "--print"); r.Code != 0 || !strings.Contains(r.Out, "would write "+settings) {
		t.Fatalf("setup claude --hook --print: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	sameFiles(t, "setup claude --print", before, snapshot(t, filepath.Dir(e.Dir)))

	if r := e.setup(sub, "claude", "--hook"); r.Code != 0 {
		t.Fatalf("setup claude --hook: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	mcp := readJSONFile(t, filepath.Join(e.Dir, ".mcp.json"))
	srv, _ := mcp["mcpServers"].(map[string]any)["bgmux"].(map[string]any)
	if srv["command"] != bgmuxBin || srv["type"] != "stdio" {
		t.Errorf(".mcp.json mcpServers.bgmux: %v", srv)
	}
	var set struct {
		Permissions map[string]any `json:"permissions"`
		Hooks       struct {
			SessionStart []struct {
				Matcher string `json:"matcher"`
				Hooks   []struct {
					Type, Command string
				} `json:"hooks"`
			} `json:"SessionStart"`
		} `json:"hooks"`
	}
	b, _ := os.ReadFile(settings)
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("settings.json: %v\n%s", err, b)
	}
	ss := set.Hooks.SessionStart
	if set.Permissions == nil || len(ss) != 2 || ss[0].Hooks[0].Command != "echo hi" || ss[1].Matcher != "resume|compact" ||
		ss[1].Hooks[0].Command != bgmuxBin+" events --new --reader claude --since 24h" {
		t.Errorf("settings.json after setup claude --hook:\n%s", b)
	}
	// The hook's command works: it prints what is new, then nothing.
	e.must("start", "--name", "h", "--", "true")
	e.run("wait", "h", "--timeout", "20s")
	hook := func() string {
		cmd := exec.Command("sh", "-c", ss[1].Hooks[0].Command)
		cmd.Dir, cmd.Env = sub, e.Environ()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the hook's command: %v: %s", err, out)
		}
		return string(out)
	}
	if out := hook(); !strings.Contains(out, "h (bg-") || !strings.Contains(out, "exited 0") {
		t.Errorf("the hook's command printed %q, want h's events", out)
	}
	if out := hook(); out != "" {
		t.Errorf("the hook's command run again printed %q, want nothing new", out)
	}
	before = snapshot(t, filepath.Dir(e.Dir))
	if r := e.setup(sub, "claude", "--hook"); r.Code != 0 || !strings.Contains(r.Out, "already set up, nothing changed") {
		t.Errorf("second setup claude --hook: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	sameFiles(t, "a second setup claude --hook", before, snapshot(t, filepath.Dir(e.Dir)))

	os.WriteFile(settings, []byte(`{"hooks": {"SessionStart": {"x": 1}}}`), 0o644)
	before = snapshot(t, filepath.Dir(e.Dir))
	if r := e.setup(sub, "claude", "--hook"); r.Code != 2 || !strings.Contains(r.Err, settings) {
		t.Errorf("setup claude --hook with SessionStart not an array: exit %d: %s", r.Code, r.Err)
	}
	sameFiles(t, "setup claude on a malformed settings file", before, snapshot(t, filepath.Dir(e.Dir)))

	// --global: a stand-in claude that has no bgmux yet, then has it.
	bin := filepath.Join(filepath.Dir(e.Dir), "bin")
	os.MkdirAll(bin, 0o755)
	calls := filepath.Join(bin, "calls")
	os.WriteFile(filepath.Join(bin, "claude"), []byte("#!/bin/sh\necho \"$*\" >> "+calls+"\n[ \"$1 $2\" = 'mcp get' ] && [ ! -e "+calls+".added ] && exit 1\n[ \"$1 $2\" = 'mcp add' ] && touch "+calls+".added\nexit 0\n"), 0o755)
	e.Extra = append(e.Extra, "PATH="+bin+":"+os.Getenv("PATH"))
	if r := e.setup(sub, "claude", "--global"); r.Code != 0 || !strings.Contains(r.Out, "ran: claude mcp add --scope user bgmux -- "+bgmuxBin+" mcp") {
		t.Errorf("setup claude --global: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	if r := e.setup(sub, "claude", "--global"); r.Code != 0 || !strings.Contains(r.Out, "already set up, nothing changed") {
		t.Errorf("second setup claude --global: exit %d: %s%s", r.Code, r.Out, r.Err)
	}
	got, _ := os.ReadFile(calls)
	if want := "mcp get bgmux\nmcp add --scope user bgmux -- " + bgmuxBin + " mcp\nmcp get bgmux\n"; string(got) != want {
		t.Errorf("claude was run as:\n%s\nwant:\n%s", got, want)
	}
}

// TestSetupHostileBin: a --bin holding shell syntax reaches the hook's
// shell command quoted (the hook runs no canary) and the JSON files
// literally.
func TestSetupHostileBin(t *testing.T) {
	e, sub := setupEnv(t)
	canary := filepath.Join(filepath.Dir(e.Dir), "canary")
	bin := `/x/$(touch ` + canary + `)'; touch ` + canary + `; '` + "\n`touch " + canary + "`"
	if r := e.setup(sub, "claude", "--hook", "--bin", bin); r.Code != 0 {
		t.Fatalf("setup claude --bin hostile: exit %d: %s", r.Code, r.Err)
	}
	var set struct {
		Hooks struct {
			SessionStart []struct {
				Hooks []struct{ Command string } `json:"hooks"`
			} `json:"SessionStart"`
		} `json:"hooks"`
	}
	b, _ := os.ReadFile(filepath.Join(e.Dir, ".claude", "settings.json"))
	json.Unmarshal(b, &set)
	cmd := exec.Command("sh", "-c", set.Hooks.SessionStart[0].Hooks[0].Command)
	cmd.Dir = sub
	cmd.Run() // fails: no such program
	if _, err := os.Stat(canary); err == nil {
		t.Fatalf("the hook's command ran the canary: %q", set.Hooks.SessionStart[0].Hooks[0].Command)
	}
	mcp := readJSONFile(t, filepath.Join(e.Dir, ".mcp.json"))
	if got := mcp["mcpServers"].(map[string]any)["bgmux"].(map[string]any)["command"]; got != bin {
		t.Errorf(".mcp.json command %q, want %q", got, bin)
	}
	if r := e.setup(sub, "opencode", "--bin", bin); r.Code != 0 {
		t.Fatalf("setup opencode --bin hostile: exit %d: %s", r.Code, r.Err)
	}
	plugin, _ := os.ReadFile(filepath.Join(e.Dir, ".opencode", "plugin", "bgmux.js"))
	q, _ := json.Marshal(bin)
	if !strings.Contains(string(plugin), "const BGMUX = "+string(q)+" //") {
		t.Errorf("the plugin does not hold --bin as one JSON string literal")
	}
	if r := e.setup(sub, "opencode", "--bin", " "); r.Code != 2 {
		t.Errorf("setup opencode --bin ' ': exit %d, want 2", r.Code)
	}
}
