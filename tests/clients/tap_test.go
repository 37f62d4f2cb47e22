//go:build clients

package clients

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The MCP tap: the clients are configured to start this test binary
// (with BGMUX_TEST_MCP_TAP set) instead of `bgmux mcp`. It starts the
// real `bgmux mcp`, passes both byte streams through unchanged, and
// appends every line of each to the log file, so a test sees exactly
// what the client and the server said (initialize, tools/list,
// progress, notifications).

// tapEnv are the variables that make this test binary a tap: the log
// file, and the bgmux binary to run `mcp` with.
const (
	tapLogEnv = "BGMUX_TEST_MCP_TAP"
	tapBinEnv = "BGMUX_TEST_MCP_BGMUX"
)

// runTapIfAsked turns the process into the tap when tapLogEnv is set; it
// then never returns.
func runTapIfAsked() {
	logPath := os.Getenv(tapLogEnv)
	if logPath == "" {
		return
	}
	os.Exit(runTap(logPath, os.Getenv(tapBinEnv)))
}

func runTap(logPath, bin string) int {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcp tap:", err)
		return 1
	}
	defer logf.Close()
	var mu sync.Mutex
	record := func(dir string, line []byte) {
		mu.Lock()
		defer mu.Unlock()
		b, _ := json.Marshal(tapLine{Dir: dir, Time: time.Now(), Line: string(line)})
		logf.Write(append(b, '\n'))
	}
	cmd := exec.Command(bin, "mcp")
	cmd.Env = os.Environ()
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return 1
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "mcp tap:", err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	go func() {
		tapCopy(in, os.Stdin, func(l []byte) { record("client", l) })
		in.Close()
	}()
	tapCopy(os.Stdout, out, func(l []byte) { record("server", l) })
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	record("exit", []byte(fmt.Sprint(code)))
	return code
}

// tapCopy copies src to dst unchanged, calling line for every line.
func tapCopy(dst io.Writer, src io.Reader, line func([]byte)) {
	r := bufio.NewReader(src)
	for {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 {
			line(b) // first, so the log has a request before its reply
			if _, werr := dst.Write(b); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// tapLine is one line of the tap's log.
type tapLine struct {
	Dir  string    `json:"dir"` // "client" (to the server), "server" (to the client), "exit"
	Time time.Time `json:"time"`
	Line string    `json:"line"`
}

// mcpMessage is one JSON-RPC message seen by the tap.
type mcpMessage struct {
	Dir    string
	Time   time.Time
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	Raw    string
}

// mcpLog reads the tap's log at path: every message each side sent, in
// order. A line that is not one JSON-RPC message fails the test.
func mcpLog(t testing.TB, path string) []mcpMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("mcp tap log: %v", err)
	}
	var msgs []mcpMessage
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var tl tapLine
		if err := json.Unmarshal([]byte(l), &tl); err != nil {
			t.Fatalf("mcp tap log line %q: %v", l, err)
		}
		if tl.Dir == "exit" {
			continue
		}
		m := mcpMessage{Dir: tl.Dir, Time: tl.Time, Raw: strings.TrimSpace(tl.Line)}
		if err := json.Unmarshal([]byte(tl.Line), &m); err != nil {
			t.Errorf("the %s sent a line that is not a JSON-RPC message: %q", tl.Dir, tl.Line)
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// mcpReply finds the reply to request req (same id, other side).
func mcpReply(msgs []mcpMessage, req mcpMessage) (mcpMessage, bool) {
	for _, m := range msgs {
		if m.Dir != req.Dir && m.Method == "" && string(m.ID) == string(req.ID) {
			return m, true
		}
	}
	return mcpMessage{}, false
}

// mcpAcknowledged reports whether the server acknowledged the
// subscriptions/listen request req (protocol 2026-07-28).
func mcpAcknowledged(msgs []mcpMessage, req mcpMessage) bool {
	var id string
	if json.Unmarshal(req.ID, &id) != nil {
		id = string(req.ID)
	}
	for _, m := range msgs {
		if m.Dir == "server" && m.Method == "notifications/subscriptions/acknowledged" {
			var p struct {
				Meta map[string]any `json:"_meta"`
			}
			json.Unmarshal(m.Params, &p)
			if fmt.Sprint(p.Meta["io.modelcontextprotocol/subscriptionId"]) == id {
				return true
			}
		}
	}
	return false
}
