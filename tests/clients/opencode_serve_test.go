//go:build clients

package clients

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// opencodeServer is a running `opencode serve` in a world: its base URL
// and the password of its HTTP basic auth (user "opencode").
type opencodeServer struct {
	*clientProc
	URL      string
	password string
	http     *http.Client
}

// startOpencodeServe starts `opencode serve` on a free loopback port in
// the world, configured as runOpencode is, protected by a random
// password, and waits until it answers /global/health (each check bounded
// to 2 s: a request that arrives while it starts may never be answered).
// It is killed at
// timeout, at Stop, and at the end of the test.
func (w *world) startOpencodeServe(model *ModelServer, timeout time.Duration) *opencodeServer {
	w.t.Helper()
	bin := needClient(w.t, "opencode")
	cfg := w.writeOpencodeConfig(model)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	s := &opencodeServer{URL: "http://127.0.0.1:" + port, password: randHex(16), http: &http.Client{Timeout: timeout}}
	env := append(w.opencodeEnviron(cfg), "OPENCODE_SERVER_PASSWORD="+s.password)
	s.clientProc = w.startClient("opencode-serve", timeout, bin,
		[]string{"serve", "--hostname", "127.0.0.1", "--port", port, "--print-logs"}, env)
	var last error
	if !poll(60*time.Second, func() bool {
		var health struct {
			Healthy bool `json:"healthy"`
		}
		last = s.callTimeout(2*time.Second, "GET", "/global/health", nil, &health)
		return last == nil && health.Healthy
	}) {
		w.t.Fatalf("opencode serve did not become healthy at %s within 60s: %v", s.URL, last)
	}
	return s
}

// call makes one API request with a JSON body (or none) and decodes the
// JSON answer into out (unless nil).
func (s *opencodeServer) call(method, path string, body, out any) error {
	return s.callTimeout(0, method, path, body, out)
}

// callTimeout is call bounded by timeout (0: the server's own timeout).
func (s *opencodeServer) callTimeout(timeout time.Duration, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		return err
	}
	req.SetBasicAuth("opencode", s.password)
	req.Header.Set("Content-Type", "application/json")
	client := s.http
	if timeout > 0 {
		client = &http.Client{Timeout: timeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return nil
}

// prompt creates a session and sends it prompt, returning the answer
// (the assistant message and its parts) once the agent loop is done.
func (s *opencodeServer) prompt(text string) (json.RawMessage, error) {
	var session struct {
		ID string `json:"id"`
	}
	if err := s.call("POST", "/session", map[string]any{}, &session); err != nil {
		return nil, err
	}
	var answer json.RawMessage
	err := s.call("POST", "/session/"+session.ID+"/message", map[string]any{
		"parts": []any{map[string]any{"type": "text", "text": text}},
		"model": map[string]any{"providerID": opencodeProvider, "modelID": opencodeModel},
	}, &answer)
	return answer, err
}

// runOpencodeServe is a headless run through `opencode serve`: start it,
// send prompt to a new session, stop it. The run's Stdout is the
// session's answer (its text parts carry the model's last text).
func (w *world) runOpencodeServe(model *ModelServer, prompt string, timeout time.Duration) clientRun {
	w.t.Helper()
	begin := time.Now()
	s := w.startOpencodeServe(model, timeout)
	answer, err := s.prompt(prompt)
	s.Stop()
	run := s.Wait()
	run.Stdout, run.Err, run.Elapsed = string(answer), err, time.Since(begin)
	return run
}
