package mcp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawServer is a real `bgmux mcp` process driven with raw lines on its
// stdin, its stdout read line by line.
type rawServer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte // stdout lines
	stderr *syncBuffer
	exited chan struct{}
	err    error // the exit, once exited is closed
	// seen are the messages until passed over.
	seen []passed
}

// startRaw starts `bgmux mcp` in a private state dir and tmux socket and
// initializes the session.
func startRaw(t *testing.T) *rawServer {
	t.Helper()
	root := t.TempDir()
	socket := "bgmux-test-" + randHex(6)
	cmd := exec.Command(bgmuxExe, "mcp")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "BGMUX_SOCKET="+socket, "BGMUX_STATE_DIR="+filepath.Join(root, "state"), "TMUX=")
	s := &rawServer{t: t, cmd: cmd, lines: make(chan []byte, 1000), stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	var err error
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var reading sync.WaitGroup
	reading.Add(1)
	go func() {
		defer reading.Done()
		defer close(s.lines)
		br := bufio.NewReader(stdout)
		for {
			l, err := br.ReadBytes('\n')
			if len(l) > 0 {
				s.lines <- l
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		reading.Wait()
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stdin.Close()
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-s.exited
		}
		exec.Command("tmux", "-L", socket, "kill-server").Run()
		if t.Failed() {
			t.Logf("bgmux mcp stderr:\n%s", s.stderr.String())
		}
	})
	s.send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}` + "\n")
	if m := s.until(`1`); m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	s.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n")
	return s
}

// send writes b on the server's stdin as it is.
func (s *rawServer) send(b string) {
	s.t.Helper()
	if _, err := io.WriteString(s.stdin, b); err != nil {
		s.t.Fatalf("write to bgmux mcp: %v; stderr: %s", err, s.stderr.String())
	}
}

// message is one line of stdout, decoded; raw keeps the id as written.
type message map[string]any

// next reads the next stdout line, which must be one JSON-RPC 2.0
// message.
func (s *rawServer) next() (message, json.RawMessage) {
	s.t.Helper()
	select {
	case l, ok := <-s.lines:
		if !ok {
			<-s.exited
			s.t.Fatalf("bgmux mcp closed stdout (exit: %v); stderr: %s", s.err, s.stderr.String())
		}
		var m message
		var ids struct {
			ID json.RawMessage `json:"id"`
		}
		if err := json.Unmarshal(l, &m); err != nil || m["jsonrpc"] != "2.0" || json.Unmarshal(l, &ids) != nil {
			s.t.Fatalf("stdout line is not a JSON-RPC 2.0 message: %q", l)
		}
		return m, ids.ID
	case <-time.After(30 * time.Second):
		s.t.Fatalf("no message from bgmux mcp within 30s; stderr: %s", s.stderr.String())
	}
	return nil, nil
}

// until reads messages until the response whose id is id (as JSON
// text) and returns it; the others are collected in s.seen.
func (s *rawServer) until(id string) message {
	s.t.Helper()
	for {
		m, raw := s.next()
		if _, isReq := m["method"]; !isReq && string(raw) == id {
			return m
		}
		s.seen = append(s.seen, passed{m, string(raw)})
	}
}

// passed is a message until passed over, with its id as JSON.
type passed struct {
	m  message
	id string
}

// errorCode is the code of an error response, or 0.
func errorCode(m message) int {
	e, _ := m["error"].(map[string]any)
	if e == nil {
		return 0
	}
	c, _ := e["code"].(float64)
	return int(c)
}

// TestAuditMCPMalformedInput sends `bgmux mcp` each kind of malformed
// line, then a valid request: the server answers what JSON-RPC says to
// answer (-32700 Parse error with id null for text that is not JSON,
// -32600 Invalid Request with the request's id when it has a usable one),
// says nothing where JSON-RPC says nothing (notifications, responses), and
// answers the next request. Before bgmux read stdin itself, each of the
// answered lines made it exit 1.
func TestAuditMCPMalformedInput(t *testing.T) {
	cases := []struct {
		name string
		line string
		code int    // the error answered, 0 for none
		id   string // the answer's id, as JSON
	}{
		{"text", "hello world", -32700, "null"},
		{"batch", "[1,2,3]", -32600, "null"},
		{"batch of requests", `[{"jsonrpc":"2.0","id":5,"method":"ping"}]`, -32600, "null"},
		{"empty batch", "[]", -32600, "null"},
		{"number", "42", -32600, "null"},
		{"string", `"ping"`, -32600, "null"},
		{"null", "null", -32600, "null"},
		{"NUL bytes", "\x00\x00\x00", -32700, "null"},
		{"NUL after a request", `{"jsonrpc":"2.0","id":5,"method":"ping"}` + "\x00", -32700, "null"},
		{"two objects on a line", `{"jsonrpc":"2.0","id":5,"method":"ping"} {"jsonrpc":"2.0","id":6,"method":"ping"}`, -32700, "null"},
		{"truncated object", `{"jsonrpc":"2.0","id":5,"method":"pi`, -32700, "null"},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":5,"method":"ping"}`, -32600, "5"},
		{"no jsonrpc", `{"id":"a-5","method":"ping"}`, -32600, `"a-5"`},
		{"jsonrpc a number", `{"jsonrpc":2.0,"id":5,"method":"ping"}`, -32600, "5"},
		{"object id", `{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, -32600, "null"},
		{"array id", `{"jsonrpc":"2.0","id":[5],"method":"ping"}`, -32600, "null"},
		{"boolean id", `{"jsonrpc":"2.0","id":true,"method":"ping"}`, -32600, "null"},
		{"null id", `{"jsonrpc":"2.0","id":null,"method":"ping"}`, -32600, "null"},
		{"fractional id", `{"jsonrpc":"2.0","id":5.5,"method":"ping"}`, -32600, "5.5"},
		{"id beyond 2^53", `{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}`, -32600, "9007199254740993"},
		{"method a number", `{"jsonrpc":"2.0","id":5,"method":1}`, -32600, "5"},
		{"params a string", `{"jsonrpc":"2.0","id":5,"method":"ping","params":"x"}`, -32600, "5"},
		{"neither request nor response", `{"jsonrpc":"2.0","id":5}`, -32600, "5"},
		{"empty object", `{}`, -32600, "null"},
		// The example of the JSON-RPC 2.0 specification: an invalid Request
		// object is answered even without an id.
		{"invalid request without id", `{"jsonrpc":"2.0","method":1,"params":"bar"}`, -32600, "null"},
		{"notification with jsonrpc 1.0", `{"jsonrpc":"1.0","method":"notifications/initialized"}`, -32600, "null"},
		// Valid notifications get no answer, whatever is wrong with them.
		{"unknown notification", `{"jsonrpc":"2.0","method":"notifications/bogus"}`, 0, ""},
		{"notification with bad params", `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"a":1}}}`, 0, ""},
		// Responses are never answered: an error about a message the client
		// could not read, a response to nothing, an invalid one.
		{"error response with null id", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`, 0, ""},
		{"stray response", `{"jsonrpc":"2.0","id":77,"result":{}}`, 0, ""},
		{"response with result and error", `{"jsonrpc":"2.0","id":77,"result":{},"error":{"code":1,"message":"x"}}`, 0, ""},
		{"response with jsonrpc 1.0", `{"jsonrpc":"1.0","id":77,"result":{}}`, 0, ""},
		{"response with a bad error", `{"jsonrpc":"2.0","id":77,"error":"bad"}`, 0, ""},
		{"blank line", "  \t", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startRaw(t)
			s.send(c.line + "\n")
			s.send(`{"jsonrpc":"2.0","id":"after","method":"tools/list"}` + "\n")
			m := s.until(`"after"`)
			if res, _ := m["result"].(map[string]any); res == nil || res["tools"] == nil {
				t.Fatalf("tools/list after %q: %v", c.line, m)
			}
			var answers []passed
			for _, o := range s.seen {
				if _, isReq := o.m["method"]; !isReq {
					answers = append(answers, o)
				}
			}
			if c.code == 0 {
				if len(answers) != 0 {
					t.Fatalf("%q: want no answer, got %v", c.line, answers)
				}
				return
			}
			if len(answers) != 1 {
				t.Fatalf("%q: want one error answer (code %d, id %s), got %v", c.line, c.code, c.id, answers)
			}
			a := answers[0]
			if errorCode(a.m) != c.code || a.id != c.id || a.m["result"] != nil {
				t.Fatalf("%q: answer %v (id %s), want error code %d with id %s", c.line, a.m, a.id, c.code, c.id)
			}
			if msg, _ := a.m["error"].(map[string]any)["message"].(string); msg == "" {
				t.Fatalf("%q: error without a message: %v", c.line, a.m)
			}
		})
	}
}

// TestAuditMCPCRLF checks that a request ending in CRLF is served.
func TestAuditMCPCRLF(t *testing.T) {
	s := startRaw(t)
	s.send(`{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\r\n")
	if m := s.until("2"); m["result"] == nil {
		t.Fatalf("ping with CRLF: %v", m)
	}
}

// TestAuditMCPGarbageFlood interleaves garbage with requests: every
// garbage line gets its error and every request its answer, and no two
// writes on stdout interleave (each line is one whole JSON-RPC message).
func TestAuditMCPGarbageFlood(t *testing.T) {
	s := startRaw(t)
	const n = 300
	var b strings.Builder
	for i := range n {
		b.WriteString(`{"jsonrpc":"2.0","id":` + strconv.Itoa(100+i) + `,"method":"ping"}` + "\n")
		b.WriteString("not json " + strconv.Itoa(i) + "\n")
		b.WriteString(`{"jsonrpc":"1.0","id":"bad-` + strconv.Itoa(i) + `","method":"ping"}` + "\n")
	}
	go io.WriteString(s.stdin, b.String())
	pings, parse, invalid := map[string]bool{}, 0, map[string]bool{}
	for len(pings) < n || parse < n || len(invalid) < n {
		m, id := s.next()
		switch {
		case errorCode(m) == -32700 && string(id) == "null":
			parse++
		case errorCode(m) == -32600 && strings.HasPrefix(string(id), `"bad-`):
			invalid[string(id)] = true
		case m["result"] != nil:
			pings[string(id)] = true
		default:
			t.Fatalf("unexpected message %v", m)
		}
	}
	if parse != n {
		t.Fatalf("%d parse errors, want %d", parse, n)
	}
}

// TestAuditMCPOversizeLine streams a line far longer than the 16 MiB
// limit: the server answers it with an error, skips it without holding
// it in memory, and serves the next request.
func TestAuditMCPOversizeLine(t *testing.T) {
	s := startRaw(t)
	const total = 160 << 20
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	s.send(`{"jsonrpc":"2.0","id":2,"method":"ping","params":{"pad":"`)
	for sent := 0; sent < total; sent += len(chunk) {
		if _, err := s.stdin.Write(chunk); err != nil {
			t.Fatalf("write: %v; stderr: %s", err, s.stderr.String())
		}
	}
	s.send(`"}}` + "\n")
	s.send(`{"jsonrpc":"2.0","id":3,"method":"ping"}` + "\n")
	if m := s.until("3"); m["result"] == nil {
		t.Fatalf("ping after the long line: %v", m)
	}
	if len(s.seen) != 1 || errorCode(s.seen[0].m) != -32600 || s.seen[0].id != "null" {
		t.Fatalf("the long line: want one -32600 error with id null, got %v", s.seen)
	}
	if msg, _ := s.seen[0].m["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "16 MiB") {
		t.Fatalf("the error does not give the limit: %q", msg)
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var hwm int
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			hwm, _ = strconv.Atoi(f[1])
		}
	}
	// The line is 160 MiB; the server may hold the 16 MiB limit of it,
	// besides the 15 MiB or so it takes anyway.
	if hwm == 0 || hwm > 64<<10 {
		t.Fatalf("peak RSS of bgmux mcp %d KiB while a %d MiB line went by; want it under 64 MiB", hwm, total>>20)
	}
	t.Logf("peak RSS %d KiB", hwm)
}

// TestAuditMCPLargeMessage checks that a message just under the 16 MiB
// limit is still served.
func TestAuditMCPLargeMessage(t *testing.T) {
	s := startRaw(t)
	pad := strings.Repeat("x", maxLine-200)
	s.send(`{"jsonrpc":"2.0","id":2,"method":"ping","params":{"_meta":{"pad":"` + pad + `"}}}` + "\n")
	if m := s.until("2"); m["result"] == nil {
		t.Fatalf("ping of %d bytes: %v", len(pad)+200, m)
	}
	if len(s.seen) != 0 {
		t.Fatalf("unexpected messages: %v", s.seen)
	}
}

// TestAuditMCPEscapedVersion: "jsonrpc" is compared as the JSON string
// it is, not as the bytes it was written in: "2\u002e0" is "2.0", and a
// request carrying it is served (it was answered with Invalid Request).
func TestAuditMCPEscapedVersion(t *testing.T) {
	s := startRaw(t)
	s.send(`{"jsonrpc":"2\u002e0","id":5,"method":"ping"}` + "\n")
	if m := s.until("5"); m["result"] == nil {
		t.Fatalf(`ping with "jsonrpc":"2\u002e0": %v`, m)
	}
	s.send(`{"jsonrpc" : "\u0032.0","id":6,"method":"ping"}` + "\n")
	if m := s.until("6"); m["result"] == nil {
		t.Fatalf(`ping with "jsonrpc":"\u0032.0": %v`, m)
	}
}

// TestAuditMCPUnreadAnswers: a client that sends requests without reading
// their answers does not make the server's memory grow without bound:
// the server serves a bounded number at once and answers more with a
// busy error, which waits, as every answer does, for the client to read.
// Once the client reads, every request has exactly one answer (its
// result, or the busy error) and the server serves the next request. On
// the old code each request waited in a goroutine of its own: 100,000
// unread pings held over 600 MB.
func TestAuditMCPUnreadAnswers(t *testing.T) {
	s := startRaw(t)
	// Should the test fail while answers are unread, its clean-up (which
	// waits for stdout to be read to its end) must not wait for ever.
	t.Cleanup(func() {
		go func() {
			for range s.lines {
			}
		}()
	})
	const n = 100000
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"ping"}`+"\n", i)
			if b.Len() > 64<<10 || i == n-1 {
				if _, err := io.WriteString(s.stdin, b.String()); err != nil {
					return
				}
				b.Reset()
			}
		}
	}()
	// Nothing is read meanwhile: the server's answers fill the pipe.
	const limit = 200 << 20
	rss := func() int {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
		_, v, _ := strings.Cut(string(b), "VmRSS:")
		kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.SplitN(v, "\n", 2)[0], "kB")))
		return kb << 10
	}
	if poll(3*time.Second, func() bool { return rss() > limit }) {
		t.Fatalf("with %d requests whose answers the client did not read, the server holds %d MiB (more than %d MiB)", n, rss()>>20, limit>>20)
	}
	answers, busy := map[string]bool{}, 0
	for len(answers) < n {
		m, raw := s.next()
		if answers[string(raw)] {
			t.Fatalf("request %s answered twice: %v", raw, m)
		}
		answers[string(raw)] = true
		switch {
		case errorCode(m) == -32000:
			busy++
		case m["result"] == nil:
			t.Fatalf("ping %s: %v", raw, m)
		}
	}
	<-sent
	if busy == 0 {
		t.Fatalf("no request of %d sent at once was answered busy", n)
	}
	s.send(`{"jsonrpc":"2.0","id":"after","method":"ping"}` + "\n")
	if m := s.until(`"after"`); m["result"] == nil {
		t.Fatalf("ping after the flood: %v", m)
	}
}
