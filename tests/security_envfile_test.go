package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestAuditEnvOffCommandLines (issue 10, item 8): environment values given
// with --env-file, --env KEY (the value from bgmux's own environment), MCP
// start_task's env_file and bgmux.yaml's env_file reach the task and are
// on no process's command line (bgmux start waiting with --wait-for, the
// supervisors, tmux, the tasks), nor in status or list. The env file is
// read as docker reads one (comments, blank lines, a BOM, CRLF, values
// literal, a bare KEY from the environment), --env wins over it, and a
// bad file or an unset --env KEY is exit status 2 naming FILE:LINE or the
// key, never the value, with nothing started.
func TestAuditEnvOffCommandLines(t *testing.T) {
	e := newEnv(t)
	root := filepath.Dir(e.State)
	token := randHex(6)
	fileV, keyV, overV, passV := "canary-file-"+token, "canary-key-"+token, "canary-over-"+token, "canary-pass-"+token
	mcpV, declV, badV := "canary-mcp-"+token, "canary-decl-"+token, "canary-bad-"+token
	all := []string{fileV, keyV, overV, passV, mcpV, declV, badV}
	dumps := filepath.Join(root, "dumps")
	if err := os.Mkdir(dumps, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(e.Dir, "secrets.env"), "\xef\xbb\xbf# a comment\n\n   \nFILE_SECRET="+fileV+"\n"+
		`  SPACED=  a "quoted" 'value' $HOME  `+"\nOVER=from-file\nCRLF=crlf\r\nPASSED\n")
	write(filepath.Join(e.Dir, "mcp.env"), "MCP_SECRET="+mcpV+"\n")
	write(filepath.Join(root, "decl.env"), "DECL_SECRET="+declV+"\n")
	e.Extra = append(e.Extra, "KEY_SECRET="+keyV, "OVER="+overV, "PASSED="+passV)
	script := `env > "$1.tmp" && mv "$1.tmp" "$1"; if [ -n "$2" ]; then read x < "$2"; fi; echo up; sleep 300`
	cfg, err := yaml.Marshal(map[string]any{"tasks": map[string]any{
		"decl": map[string]any{"command": []string{"sh", "-c", script, "sh", filepath.Join(dumps, "decl")}, "env_file": "decl.env"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.useConfig(string(cfg))

	c := mcpConnect(t, e)
	mcpRes := c.ok("start_task", map[string]any{"command": []string{"sh", "-c", script, "sh", filepath.Join(dumps, "mcp")},
		"name": "mcpenv", "env_file": "mcp.env"}, nil)
	e.must("up")

	// bgmux start --wait-for stays alive until the task prints "up",
	// which it does only once the gate opens: its command line is scanned
	// too.
	g := newGate(t, root, "gate")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := exec.CommandContext(ctx, bgmuxBin, "start", "--json", "--name", "cli", "--env-file", "secrets.env", "--env", "KEY_SECRET",
		"--env", "OVER", "--wait-for", "^up", "--timeout", "30s", "--", "sh", "-c", script, "sh", filepath.Join(dumps, "cli"), string(g))
	start.Dir, start.Env = e.Dir, e.Environ()
	var startOut, startErr bytes.Buffer
	start.Stdout, start.Stderr = &startOut, &startErr
	if err := start.Start(); err != nil {
		t.Fatal(err)
	}
	startDone := make(chan error, 1)
	go func() { startDone <- start.Wait() }()
	for _, name := range []string{"cli", "mcp", "decl"} {
		if !poll(20*time.Second, func() bool { _, err := os.Stat(filepath.Join(dumps, name)); return err == nil }) {
			t.Fatalf("task %s never wrote its environment; start: %s %s", name, startOut.String(), startErr.String())
		}
	}
	select {
	case err := <-startDone:
		t.Fatalf("bgmux start returned before the task printed its line: %v %s %s", err, startOut.String(), startErr.String())
	default:
	}
	// No process on the machine has a value on its command line.
	procs, _ := os.ReadDir("/proc")
	scanned := 0
	for _, d := range procs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if bytes.Contains(cmdline, []byte("secrets.env")) {
			scanned++ // the waiting bgmux start
		}
		for _, v := range all {
			if bytes.Contains(cmdline, []byte(v)) {
				t.Errorf("process %s has the environment value %q on its command line: %q", d.Name(), v, cmdline)
			}
		}
	}
	if scanned == 0 {
		t.Fatalf("the waiting bgmux start was not among the processes scanned")
	}
	g.open(t)
	if err := <-startDone; err != nil {
		t.Fatalf("bgmux start --wait-for: %v\n%s%s", err, startOut.String(), startErr.String())
	}

	// The values reached the tasks, read as docker reads an env file.
	for name, want := range map[string][]string{
		"cli": {"FILE_SECRET=" + fileV, `SPACED=  a "quoted" 'value' $HOME  `, "OVER=" + overV, "CRLF=crlf", "PASSED=" + passV, "KEY_SECRET=" + keyV},
		"mcp": {"MCP_SECRET=" + mcpV}, "decl": {"DECL_SECRET=" + declV},
	} {
		b, _ := os.ReadFile(filepath.Join(dumps, name))
		for _, w := range want {
			if !strings.Contains("\n"+string(b), "\n"+w+"\n") {
				t.Errorf("task %s lacks %q in its environment:\n%s", name, w, b)
			}
		}
	}
	// --env KEY and the file's entries are the task's own environment
	// (kept in its spec, mode 0600), not only inherited.
	tk := e.status("cli")
	var spec struct {
		Env map[string]string `json:"env"`
	}
	scReadSidecar(t, e, tk.ID, "spec", &spec)
	for k, v := range map[string]string{"KEY_SECRET": keyV, "OVER": overV, "FILE_SECRET": fileV, "PASSED": passV, "CRLF": "crlf"} {
		if spec.Env[k] != v {
			t.Errorf("spec env %s = %q, want %q", k, spec.Env[k], v)
		}
	}

	// Never shown: status, list, the start and MCP results.
	shown := map[string]string{"start --json": startOut.String() + startErr.String(), "mcp start_task": mcpText(mcpRes) + mcpJSON(mcpRes.StructuredContent)}
	for _, args := range [][]string{{"status", "--json", "cli"}, {"status", "cli"}, {"list", "--all", "--json"}, {"list", "--all"}, {"status", "--json", "decl"}} {
		r := e.run(args...)
		shown[strings.Join(args, " ")] = r.Out + r.Err
	}

	// Bad input: exit status 2, FILE:LINE or the key named, no value
	// shown, nothing started.
	write(filepath.Join(e.Dir, "bad.env"), "# ok\nGOOD=1\nBAD-KEY="+badV+"\n")
	write(filepath.Join(e.Dir, "bare.env"), "GOOD=1\nUNSET_"+token+"\n")
	write(filepath.Join(e.Dir, "export.env"), "export SECRET="+badV+"\n")
	before, _ := os.ReadDir(filepath.Join(e.State, "tasks"))
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--env-file", "bad.env"}, "bad.env:3: not KEY=VALUE"},
		{[]string{"--env-file", "bare.env"}, "bare.env:2: a name without '=' takes its value from bgmux's environment, where it is not set"},
		{[]string{"--env-file", "export.env"}, `export.env:1: drop the "export"`},
		{[]string{"--env-file", "missing.env"}, "missing.env does not exist"},
		{[]string{"--env-file", ""}, "env file name is empty"},
		{[]string{"--env", "UNSET_" + token}, "--env UNSET_" + token + " takes the value of UNSET_" + token + " from bgmux's environment, where it is not set"},
	} {
		for _, asJSON := range []bool{false, true} {
			args := append([]string{"start"}, bad.args...)
			if asJSON {
				args = append(args, "--json")
			}
			r := e.run(append(args, "--", "true")...)
			shown[strings.Join(args, " ")] = r.Out + r.Err
			if r.Code != 2 || !strings.Contains(r.Err, bad.want) {
				t.Errorf("start %q: exit %d, stderr %q; want 2 and %q", bad.args, r.Code, r.Err, bad.want)
			}
			if asJSON && !strings.Contains(r.Out, `"kind":"invalid_input"`) {
				t.Errorf("start --json %q: stdout %q, want an invalid_input error", bad.args, r.Out)
			}
		}
	}
	res := c.call("start_task", map[string]any{"command": "true", "env_file": "bad.env"})
	shown["mcp start_task bad env_file"] = mcpText(res) + mcpJSON(res.StructuredContent)
	if !res.IsError || !strings.Contains(mcpText(res), "bad.env:3") {
		t.Errorf("start_task with a bad env_file: error %v, %s", res.IsError, mcpText(res))
	}
	shown["mcp stderr"] = c.stderr.String()
	if after, _ := os.ReadDir(filepath.Join(e.State, "tasks")); len(after) != len(before) {
		t.Errorf("bad input created tasks: %d task dirs, had %d", len(after), len(before))
	}
	for what, out := range shown {
		for _, v := range all {
			if strings.Contains(out, v) {
				t.Errorf("%s shows the environment value %q:\n%s", what, v, out)
			}
		}
	}
	// The task object has no env field: neither values nor keys.
	var doc map[string]any
	if err := json.Unmarshal([]byte(e.must("status", "--json", "mcpenv")), &doc); err != nil || doc["env"] != nil {
		t.Errorf("status --json shows an env field: %v %v", err, doc["env"])
	}
}
