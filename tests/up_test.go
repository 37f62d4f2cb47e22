package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// upOutput is bgmux up/down --json.
type upOutput struct {
	Tasks []struct {
		Name   string `json:"name"`
		ID     string `json:"id"`
		Action string `json:"action"`
	} `json:"tasks"`
}

// timedTask is the part of the task object with its times.
type timedTask struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
}

func (e *env) timed(ref string) timedTask {
	e.t.Helper()
	var tt timedTask
	out := e.must("status", "--json", ref)
	if err := json.Unmarshal([]byte(out), &tt); err != nil {
		e.t.Fatalf("status output: %v\n%s", err, out)
	}
	return tt
}

func decodeUp(t *testing.T, out string) upOutput {
	t.Helper()
	var u upOutput
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		t.Fatalf("up/down --json output is not {tasks: [...]}: %v\n%s", err, out)
	}
	return u
}

// writeFile writes text to path, failing the test on error.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestUpDependencyChain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	release := filepath.Join(e.Dir, "release")
	cfg := filepath.Join(e.Dir, "chain.yaml")
	writeFile(t, cfg, `tasks:
  web:
    command: ["sh", "-c", "echo web-up; exec sleep 600"]
    depends_on: [api]
    autostart: true
  api:
    command: "echo api-starting; while [ ! -e `+release+` ]; do sleep 0.02; done; echo api-ready; exec sleep 600"
    ready: "^api-ready$"
    ready_timeout: 30s
`)
	e.Extra = append(e.Extra, "BGMUX_CONFIG="+cfg)

	// up runs in the background: it must start a, then block on a's ready line.
	cmd := exec.Command(bgmuxBin, "up", "--json")
	cmd.Dir, cmd.Env = e.Dir, e.Environ()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	if !poll(20*time.Second, func() bool {
		r := e.run("logs", "api")
		return r.Code == 0 && strings.Contains(r.Out, "api-starting")
	}) {
		t.Fatalf("api never printed api-starting; up stderr: %s", stderr.String())
	}
	// a is running and has not printed its ready line: b must not exist and up must still wait.
	if r := e.run("status", "web"); r.Code == 0 {
		t.Fatalf("b exists while a has not printed its ready line:\n%s", r.Out)
	}
	select {
	case err := <-done:
		t.Fatalf("up returned before a was ready: %v\n%s\n%s", err, stdout.String(), stderr.String())
	default:
	}
	writeFile(t, release, "")
	st, err := os.Stat(release)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("up failed: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("up did not finish after a's ready line\nstderr: %s", stderr.String())
	}
	u := decodeUp(t, stdout.String())
	if len(u.Tasks) != 2 || u.Tasks[0].Name != "api" || u.Tasks[1].Name != "web" || u.Tasks[0].Action != "started" || u.Tasks[1].Action != "started" {
		t.Fatalf("up --json = %+v, want a then b, both started", u)
	}
	a, b := e.timed(u.Tasks[0].ID), e.timed(u.Tasks[1].ID)
	// The release file exists before a prints its ready line, so b was
	// created after that line.
	if b.CreatedAt.Before(st.ModTime()) || b.CreatedAt.Before(a.CreatedAt) {
		t.Fatalf("b created at %v, before a's ready line (release file at %v; a created %v)", b.CreatedAt, st.ModTime(), a.CreatedAt)
	}
	e.waitLog(b.ID, "web-up", 20*time.Second)
	// The spec records the config file and autostart.
	for id, autostart := range map[string]bool{a.ID: false, b.ID: true} {
		var sp struct {
			Declared  string `json:"declared"`
			Autostart bool   `json:"autostart"`
		}
		data, err := os.ReadFile(filepath.Join(e.State, "tasks", id, "spec"))
		if err != nil || json.Unmarshal(data, &sp) != nil {
			t.Fatalf("read spec of %s: %v", id, err)
		}
		if sp.Declared != cfg || sp.Autostart != autostart {
			t.Fatalf("spec of %s: declared %q autostart %v; want %q %v", id, sp.Declared, sp.Autostart, cfg, autostart)
		}
	}

	// A second up starts nothing and says so.
	out := e.must("up")
	if strings.Contains(out, "started") || !strings.Contains(out, "already running api ("+a.ID+")") ||
		!strings.Contains(out, "already running web ("+b.ID+")") || !strings.Contains(out, "nothing to start") {
		t.Fatalf("second up:\n%s", out)
	}
	u2 := decodeUp(t, e.must("up", "--json", "web"))
	if len(u2.Tasks) != 2 || u2.Tasks[0].Action != "already_running" || u2.Tasks[1].Action != "already_running" || u2.Tasks[1].ID != b.ID {
		t.Fatalf("third up --json b = %+v", u2)
	}

	// down stops b, then a.
	out = e.must("down")
	ib, ia := strings.Index(out, "stopped web ("+b.ID+")"), strings.Index(out, "stopped api ("+a.ID+")")
	if ib < 0 || ia < 0 || ib > ia {
		t.Fatalf("down output, want b stopped before a:\n%s", out)
	}
	a, b = e.timed(a.ID), e.timed(b.ID)
	if a.State != "killed" || b.State != "killed" || a.EndedAt == nil || b.EndedAt == nil || b.EndedAt.After(*a.EndedAt) {
		t.Fatalf("after down: a %+v, b %+v", a, b)
	}
	if out := e.must("down"); !strings.Contains(out, "nothing to stop") {
		t.Fatalf("second down:\n%s", out)
	}
}

func TestUpDependencyFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.useConfig(`tasks:
  api:
    command: "echo boom-line; exit 3"
    ready: listening
  web:
    command: "sleep 600"
    depends_on: [api]
`)
	r := e.run("up")
	if r.Code != 1 || !strings.Contains(r.Err, "api (bg-") || !strings.Contains(r.Err, "exited 3") || !strings.Contains(r.Err, "boom-line") || !strings.Contains(r.Err, "not starting web") {
		t.Fatalf("up with a failing dependency: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	if r := e.run("status", "web"); r.Code == 0 {
		t.Fatalf("b was started although a failed:\n%s", r.Out)
	}
}

func TestUpConfigErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct{ name, yaml, want string }{
		{"unknown key", "tasks:\n  web:\n    command: x\n    comand: y\n", `:4: unknown key "comand" in tasks.web`},
		{"wrong type", "tasks:\n  web:\n    command: x\n    depends_on: db\n", ":4: key tasks.web.depends_on: wrong type"},
		{"bad regex", "tasks:\n  web:\n    command: x\n    ready: 'a(b'\n", ":4: task web: ready is not a valid regular expression"},
		{"cycle", "tasks:\n  a:\n    command: x\n    depends_on: [c]\n  b:\n    command: x\n    depends_on: [a]\n  c:\n    command: x\n    depends_on: [b]\n", "depends_on cycle: a -> c -> b -> a"},
		{"missing command", "tasks:\n  ok:\n    command: x\n  web:\n    cwd: sub\n", ":4: task web has no command"},
		{"unknown dependency", "tasks:\n  web:\n    command: x\n    depends_on: [db]\n", `:4: task web depends on "db"`},
		{"bad name", "tasks:\n  ok:\n    command: x\n  'has space':\n    command: x\n", ":4: bad task name"},
	}
	for _, c := range cases {
		cfg := filepath.Join(filepath.Dir(e.State), "bad.yaml")
		writeFile(t, cfg, c.yaml)
		r := e.run("--config", cfg, "up")
		if r.Code != 2 || !strings.Contains(r.Err, cfg+":") || !strings.Contains(r.Err, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 naming %s and %q", c.name, r.Code, r.Err, cfg, c.want)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(e.State, "tasks")); len(ents) != 0 {
		t.Fatalf("config errors left %d task dirs", len(ents))
	}
	if out, err := e.tmux("list-sessions"); err == nil {
		t.Fatalf("config errors started a tmux server:\n%s", out)
	}
}

func TestUpFindsProjectConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The walk stops at the git top-level (e.Dir): a broken bgmux.yaml
	// above it is never read.
	writeFile(t, filepath.Join(filepath.Dir(e.Dir), "bgmux.yaml"), "not_a_key: 1\n")
	if err := os.Mkdir(filepath.Join(e.Dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(e.Dir, "src", "deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := e.runIn(sub, "list"); r.Code != 0 {
		t.Fatalf("list read a config above the git top-level: exit %d\n%s", r.Code, r.Err)
	}
	writeFile(t, filepath.Join(e.Dir, "bgmux.yaml"), "tasks:\n  srv:\n    command: pwd; echo srv-up; exec sleep 600\n    cwd: src\n")
	r := e.runIn(sub, "up")
	if r.Code != 0 || !strings.Contains(r.Out, "started srv (bg-") {
		t.Fatalf("up from a subdirectory: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	// cwd is relative to the config file; the group is the repository's.
	e.waitLog("srv", "srv-up", 20*time.Second)
	if st := e.status("srv"); st.Cwd != filepath.Join(e.Dir, "src") || st.Group != e.Group {
		t.Fatalf("srv: cwd %q group %q; want %q %q", st.Cwd, st.Group, filepath.Join(e.Dir, "src"), e.Group)
	}
	if r := e.runIn(sub, "down", "srv"); r.Code != 0 || !strings.Contains(r.Out, "stopped srv") {
		t.Fatalf("down from a subdirectory: exit %d\n%s%s", r.Code, r.Out, r.Err)
	}
}
