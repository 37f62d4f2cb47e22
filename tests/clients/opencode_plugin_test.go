//go:build clients

package clients

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The OpenCode plugin (integrations/opencode, written by `bgmux setup
// opencode`): a task a session started through bgmux_start_task ends, and
// the plugin's message about it reaches the model as a new turn of that
// session, exactly once, also when OpenCode was down when it ended.

// pluginNotice matches the plugin's message about the end of task name.
func pluginNotice(name, how string) *regexp.Regexp {
	return regexp.MustCompile(`bgmux: task ` + regexp.QuoteMeta(name) + ` \(bg-[0-9a-z]+\) ` + regexp.QuoteMeta(how))
}

// wakeScript is the scripted model of the plugin test: a prompt "start
// NAME: COMMAND" makes it call bgmux_start_task with that name and
// command; a tool result ends the turn ("started NAME"); a message of the
// plugin is acknowledged ("noted: ...").
type wakeScript struct {
	mu      sync.Mutex
	notices []string // the plugin's messages, in the order the model got them as a new turn
}

var startPrompt = regexp.MustCompile(`^start (\S+): (.+)$`)

func (s *wakeScript) Script(r *Request) Turn {
	if !openCode.Main(r) {
		return Turn{Text: "Background task"}
	}
	if len(r.Messages) == 0 {
		return Turn{Text: "nothing to do"}
	}
	last := r.Messages[len(r.Messages)-1]
	switch {
	case last.Role == "tool":
		return Turn{Text: "started; I will be told when it ends"}
	case last.Role == "user" && strings.HasPrefix(last.Text, "bgmux: task "):
		s.mu.Lock()
		s.notices = append(s.notices, last.Text)
		s.mu.Unlock()
		return Turn{Text: "noted: " + strings.SplitN(last.Text, "\n", 2)[0]}
	case last.Role == "user":
		// opencode run hands the prompt over in double quotes.
		if m := startPrompt.FindStringSubmatch(strings.Trim(strings.TrimSpace(last.Text), `"`)); m != nil {
			return Turn{Calls: []ToolCall{{Name: opencodeTool("start_task"), Input: map[string]any{"name": m[1], "command": m[2]}}}}
		}
	}
	return Turn{Text: "nothing to do"}
}

func (s *wakeScript) Notices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.notices...)
}

// skipOpencodeInstall marks OpenCode's config dirs of the world (the
// user's and the project's .opencode) as having their dependencies: on
// start OpenCode runs npm install of its plugin types package in every
// config dir that lacks node_modules or whose package-lock.json does not
// list it, and with a plugin to load it waits for that (seconds, over the
// network). The bgmux plugin imports nothing, so the tests skip it.
func (w *world) skipOpencodeInstall() {
	w.t.Helper()
	lock := []byte(`{"lockfileVersion":3,"packages":{"":{"dependencies":{"@opencode-ai/plugin":"1.18.33"}}}}`)
	for _, d := range []string{filepath.Join(w.Home, ".config", "opencode"), filepath.Join(w.Work, ".opencode")} {
		if err := os.MkdirAll(filepath.Join(d, "node_modules"), 0o700); err != nil {
			w.t.Fatal(err)
		}
		w.writeFile(filepath.Join(d, "package-lock.json"), lock)
	}
}

// promptIn sends text to session id and waits for the agent loop to end.
func (s *opencodeServer) promptIn(id, text string) error {
	return s.call("POST", "/session/"+id+"/message", map[string]any{
		"parts": []any{map[string]any{"type": "text", "text": text}},
		"model": map[string]any{"providerID": opencodeProvider, "modelID": opencodeModel},
	}, nil)
}

// newSession creates a session and returns its id.
func (s *opencodeServer) newSession() string {
	var session struct {
		ID string `json:"id"`
	}
	if err := s.call("POST", "/session", map[string]any{}, &session); err != nil || session.ID == "" {
		s.w.t.Fatalf("POST /session: %v (%+v)", err, session)
	}
	return session.ID
}

// userTexts are the user messages of session id as OpenCode stored them.
func (s *opencodeServer) userTexts(id string) []string {
	var msgs []struct {
		Info struct {
			Role string `json:"role"`
		} `json:"info"`
		Parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"parts"`
	}
	if err := s.call("GET", "/session/"+id+"/message", nil, &msgs); err != nil {
		s.w.t.Fatalf("GET /session/%s/message: %v", id, err)
	}
	var out []string
	for _, m := range msgs {
		if m.Info.Role != "user" {
			continue
		}
		for _, p := range m.Parts {
			if p.Type == "text" {
				out = append(out, p.Text)
			}
		}
	}
	return out
}

func countMatches(texts []string, re *regexp.Regexp) int {
	n := 0
	for _, t := range texts {
		if re.MatchString(t) {
			n++
		}
	}
	return n
}

// TestOpenCodePluginWakesSession: `bgmux setup opencode` in the project,
// then the real `opencode serve` with the scripted model. A task started
// through bgmux_start_task exits 3 after a few seconds, after the turn
// that started it ended: the model gets the plugin's message about exit 3
// as a new turn, once. Then the same session starts a task that exits 4
// while OpenCode is down: the restarted plugin catches up and the model
// is told once, and exit 3 is not told again.
func TestOpenCodePluginWakesSession(t *testing.T) {
	needClient(t, "opencode")
	w := newWorld(t)
	out := w.bgmux("setup", "opencode", "--bin", bgmuxBin)
	t.Logf("bgmux setup opencode:\n%s", out)
	w.skipOpencodeInstall()
	if _, err := os.Stat(filepath.Join(w.Work, ".opencode", "plugin", "bgmux.js")); err != nil {
		t.Fatalf("setup opencode wrote no plugin: %v\n%s", err, out)
	}
	script := &wakeScript{}
	m := newModelServer(t, filepath.Join(w.Logs, "model.log"), script.Script)
	exit3, exit4 := pluginNotice("web", "exited 3"), pluginNotice("api", "exited 4")

	s := w.startOpencodeServe(m, clientTimeout)
	id := s.newSession()
	if err := s.promptIn(id, "start web: echo web-begins; sleep 3; echo web-ends; exit 3"); err != nil {
		t.Fatalf("first prompt: %v\nstderr: %s", err, tail(readFile(s.StderrPath), 3000))
	}
	if n := countMatches(script.Notices(), exit3); n != 0 {
		t.Fatalf("the model was told of the end before the task ended: %q", script.Notices())
	}
	if !poll(60*time.Second, func() bool { return countMatches(script.Notices(), exit3) > 0 }) {
		t.Fatalf("the model was never told that web exited 3; notices %q\nopencode stderr: %s", script.Notices(), tail(readFile(s.StderrPath), 4000))
	}
	notice := script.Notices()[0]
	t.Logf("the plugin's message as the model got it:\n%s", notice)
	for _, want := range []string{"exited 3 after", "web-ends", "read_output", "attach: tmux -L " + w.Socket + " attach"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the plugin's message lacks %q:\n%s", want, notice)
		}
	}
	if strings.Contains(notice, "[bgmux] exited") {
		t.Errorf("the plugin's message shows the supervisor's trailer line as output:\n%s", notice)
	}

	// A second task in the same session ends while OpenCode is down.
	if err := s.promptIn(id, "start api: sleep 4; exit 4"); err != nil {
		t.Fatalf("second prompt: %v", err)
	}
	s.Stop()
	s.Wait()
	if !poll(30*time.Second, func() bool { return strings.Contains(w.bgmux("status", "api"), "exited 4") }) {
		t.Fatalf("api did not exit 4: %s", w.bgmux("status", "api"))
	}
	if n := countMatches(script.Notices(), exit4); n != 0 {
		t.Fatalf("the model was told of api's end by a stopped OpenCode: %q", script.Notices())
	}
	s2 := w.startOpencodeServe(m, clientTimeout)
	// The plugin loads with the project's instance, on its first request.
	s2.userTexts(id)
	if !poll(60*time.Second, func() bool { return countMatches(script.Notices(), exit4) > 0 }) {
		t.Fatalf("after the restart the model was never told that api exited 4; notices %q\nopencode stderr: %s", script.Notices(), tail(readFile(s2.StderrPath), 4000))
	}
	// The model acknowledged it: the loop of that turn is over.
	if !poll(30*time.Second, func() bool {
		texts := s2.userTexts(id)
		return countMatches(texts, exit4) == 1
	}) {
		t.Fatalf("session %s does not hold api's notice once: %q", id, s2.userTexts(id))
	}
	texts := s2.userTexts(id)
	if n3, n4 := countMatches(texts, exit3), countMatches(texts, exit4); n3 != 1 || n4 != 1 {
		t.Errorf("session %s was told %d times that web exited 3 and %d times that api exited 4, want once each; its user messages:\n%s",
			id, n3, n4, strings.Join(texts, "\n---\n"))
	}
	if n3, n4 := countMatches(script.Notices(), exit3), countMatches(script.Notices(), exit4); n3 != 1 || n4 != 1 {
		t.Errorf("the model got %d turns for web's exit 3 and %d for api's exit 4, want one each: %q", n3, n4, script.Notices())
	}
	// Nothing else was sent: every user message is a prompt or a notice.
	for _, text := range texts {
		if !startPrompt.MatchString(text) && !strings.HasPrefix(text, "bgmux: task ") {
			t.Errorf("session %s got a user message that is neither a prompt nor a notice: %q", id, text)
		}
	}
}

// TestOpenCodePluginRunExits: a plain `opencode run` with the plugin set
// up still exits when its turn ends (the plugin's watcher does not keep it
// alive), before the task it started ends, and leaves no
// `bgmux events --follow` behind.
func TestOpenCodePluginRunExits(t *testing.T) {
	needClient(t, "opencode")
	w := newWorld(t)
	w.bgmux("setup", "opencode", "--bin", bgmuxBin)
	w.skipOpencodeInstall()
	script := &wakeScript{}
	m := newModelServer(t, filepath.Join(w.Logs, "model.log"), script.Script)
	run := w.runOpencode(m, "start slow: sleep 120", 90*time.Second)
	if run.Err != nil {
		t.Fatalf("opencode run with the plugin: %v\nstderr: %s", run.Err, tail(run.Stderr, 3000))
	}
	if !strings.Contains(run.Stdout, "started; I will be told when it ends") {
		t.Fatalf("opencode run did not get to the end of its turn:\n%s", tail(run.Stdout, 3000))
	}
	if st := w.bgmux("status", "slow"); !strings.Contains(st, "running") {
		t.Fatalf("the task is not running after opencode run: %s", st)
	}
	if !poll(10*time.Second, func() bool { return len(followProcs(w)) == 0 }) {
		t.Errorf("bgmux events --follow is still running after opencode run exited: %v", followProcs(w))
	}
}

// followProcs are the pids of `bgmux events --follow` processes of this
// world (bgmuxBin's).
func followProcs(w *world) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.HasPrefix(string(cmd), bgmuxBin+"\x00events\x00--follow") && pidAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
