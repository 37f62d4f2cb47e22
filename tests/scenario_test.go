package tests

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// scStrictTask decodes out as exactly one JSON task object, failing the
// test if it is not valid JSON or carries trailing data.
func scStrictTask(t testing.TB, what, out string) task {
	t.Helper()
	if !json.Valid([]byte(out)) {
		t.Fatalf("%s: not one valid JSON document:\n%s", what, out)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var tk task
	if err := dec.Decode(&tk); err != nil {
		t.Fatalf("%s: not a task object: %v\n%s", what, err, out)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: trailing data after the task object:\n%s", what, out)
	}
	return tk
}

// scWindowExists reports whether window id (@N) is still on e's server.
func scWindowExists(t testing.TB, e *env, window string) bool {
	t.Helper()
	out, err := e.tmux("list-panes", "-a", "-F", "#{window_id}")
	if err != nil {
		t.Fatalf("tmux list-panes: %v\n%s", err, out)
	}
	for _, w := range strings.Fields(out) {
		if w == window {
			return true
		}
	}
	return false
}

var scPortLine = regexp.MustCompile(`Server running on port (\d+)`)

// TestEchoServerScenario is the user's scenario: start a Python HTTP echo
// server in the background, find its port in the logs, talk to it, see
// the request in the logs, stop it, and still see its window and screen.
func TestEchoServerScenario(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src, err := os.ReadFile(filepath.Join("testdata", "echo_server.py"))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(e.Dir, "echo_server.py")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}

	started := e.start("--name", "echo_server", "--", "python3", script)
	if started.Name != "echo_server" || started.ID == "" {
		t.Fatalf("start returned %+v", started)
	}

	// Status straight after start, no waiting.
	r := e.run("status", "echo_server", "--json")
	if r.Code != 0 {
		t.Fatalf("status --json: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
	}
	st := scStrictTask(t, "status --json", r.Out)
	if st.State != "running" || st.PID == nil || *st.PID <= 0 {
		t.Fatalf("status right after start: state %q pid %v, want running with a pid\n%s", st.State, st.PID, r.Out)
	}
	if st.ID != started.ID {
		t.Fatalf("status id %s, start id %s", st.ID, started.ID)
	}
	pid := *st.PID
	if !pidAlive(pid) {
		t.Fatalf("reported pid %d is not alive", pid)
	}

	// The port, from the logs.
	var port string
	var logs string
	if !poll(20*time.Second, func() bool {
		logs = e.must("logs", "echo_server")
		if m := scPortLine.FindStringSubmatch(logs); m != nil {
			port = m[1]
			return true
		}
		return false
	}) {
		t.Fatalf("the port line never reached bgmux logs; logs:\n%s\nstatus: %+v", logs, e.status("echo_server"))
	}

	// Talk to it.
	msg := "hello-bgmux-" + randHex(8)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post("http://127.0.0.1:"+port+"/", "text/plain", bytes.NewBufferString(msg))
	if err != nil {
		t.Fatalf("POST to the echo server on port %s: %v", port, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: status %d, body %q", resp.StatusCode, body)
	}
	var echoed struct {
		Echo *string `json:"echo"`
	}
	if err := json.Unmarshal(body, &echoed); err != nil || echoed.Echo == nil {
		t.Fatalf("response is not {\"echo\": ...}: %v\n%s", err, body)
	}
	if *echoed.Echo != msg {
		t.Fatalf("echo %q, want %q", *echoed.Echo, msg)
	}

	// The request shows up in the logs.
	e.waitLog("echo_server", msg, 20*time.Second)

	// Stop it.
	e.must("stop", "echo_server")
	fin := e.waitFinished("echo_server")
	switch fin.State {
	case "killed":
		if fin.Signal == nil || *fin.Signal != "SIGTERM" {
			t.Fatalf("after stop: killed by %v, want SIGTERM: %+v", fin.Signal, fin)
		}
		if fin.ExitCode != nil {
			t.Fatalf("killed task has exit_code %d", *fin.ExitCode)
		}
	case "exited":
		if fin.ExitCode == nil {
			t.Fatalf("exited without an exit code: %+v", fin)
		}
		var ex struct {
			ExitCode *int `json:"exit_code"`
		}
		scReadSidecar(t, e, fin.ID, "exit", &ex)
		if ex.ExitCode == nil || *ex.ExitCode != *fin.ExitCode {
			t.Fatalf("status exit code %d, exit sidecar %v", *fin.ExitCode, ex.ExitCode)
		}
	default:
		t.Fatalf("after stop: state %q, want killed (SIGTERM) or exited: %+v", fin.State, fin)
	}
	if !poll(10*time.Second, func() bool { return !pidAlive(pid) }) {
		t.Fatalf("pid %d still alive after stop", pid)
	}

	// The window stays for a human to read, and shows the server's output.
	if fin.Tmux.Window == "" {
		t.Fatalf("task object has no tmux window: %+v", fin)
	}
	if !scWindowExists(t, e, fin.Tmux.Window) {
		out, _ := e.tmux("list-panes", "-a", "-F", "#{window_id} #{pane_id} #{window_name}")
		t.Fatalf("window %s is gone after stop; panes:\n%s", fin.Tmux.Window, out)
	}
	screen := e.must("screen", "echo_server")
	if !scPortLine.MatchString(screen) || !strings.Contains(screen, "port "+port) {
		t.Fatalf("bgmux screen does not show the port line; got:\n%s", screen)
	}
}

// scTaskDir is the directory holding task id's sidecars.
func scTaskDir(e *env, id string) string {
	return filepath.Join(e.State, "tasks", id)
}

// scReadSidecar decodes the JSON sidecar name of task id into v.
func scReadSidecar(t testing.TB, e *env, id, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(scTaskDir(e, id), name))
	if err != nil {
		t.Fatalf("read %s sidecar of %s: %v", name, id, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s sidecar of %s is not valid JSON: %v\n%s", name, id, err, b)
	}
}
