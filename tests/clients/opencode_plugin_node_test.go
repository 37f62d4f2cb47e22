//go:build clients

package clients

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The plugin's decisions, without a model: the plugin file `bgmux setup
// opencode` writes, loaded by node (OpenCode runs it in Bun; both have
// node:child_process and node:fs) with a client whose promptAsync prints
// what it was asked to post, against real bgmux tasks.

// pluginDriver loads the plugin twice (as OpenCode does with a global and
// a project copy), gives both the config hook, then reads JSON lines on
// stdin, {"tool","session","result"}, and calls tool.execute.after of both
// with them; every promptAsync is printed as a JSON line.
const pluginDriver = `
import { BgmuxPlugin } from %q
import readline from "node:readline"
const client = {
  app: { log: async (req) => { console.error("log:", JSON.stringify(req.body)) } },
  session: { promptAsync: async (req) => { console.log(JSON.stringify(req)) } },
}
const config = { mcp: { bgmux: { type: "local", command: [%q, "mcp"], environment: JSON.parse(process.env.DRIVER_MCP_ENV) } } }
const a = await BgmuxPlugin({ client, directory: process.cwd() })
const b = await BgmuxPlugin({ client, directory: process.cwd() })
await a.config(config)
await b.config(config)
console.log(JSON.stringify({ ready: true }))
for await (const line of readline.createInterface({ input: process.stdin })) {
  const m = JSON.parse(line)
  if (m.event) {
    for (const h of [a, b]) await h.event({ event: m.event })
    continue
  }
  for (const h of [a, b]) await h["tool.execute.after"]({ tool: m.tool, sessionID: m.session, callID: "c1", args: {} }, m.result)
}
`

type driver struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin *json.Encoder
	mu    sync.Mutex
	posts []string // text of each message posted
	ready chan struct{}
}

func startDriver(t *testing.T, w *world, plugin string) *driver {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (apt-get install -y nodejs; .ci/clients installs npm, which brings it): %v", err)
	}
	src := filepath.Join(w.Root, "driver-"+randHex(3)+".mjs")
	w.writeFile(src, []byte(fmt.Sprintf(pluginDriver, "file://"+plugin, bgmuxBin)))
	mcpEnv, _ := json.Marshal(w.mcpEnv())
	cmd := exec.Command(node, src)
	cmd.Dir = w.Work
	// Not the world's bgmux variables: the plugin must take them from the
	// MCP entry's environment.
	cmd.Env = w.clientEnviron("DRIVER_MCP_ENV=" + string(mcpEnv))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(w.Logs, "driver.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, cmd: cmd, stdin: json.NewEncoder(in), ready: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var msg struct {
				Ready bool `json:"ready"`
				Path  struct {
					ID string `json:"id"`
				} `json:"path"`
				Body struct {
					Parts []struct {
						Text string `json:"text"`
					} `json:"parts"`
				} `json:"body"`
			}
			if json.Unmarshal(sc.Bytes(), &msg) != nil {
				continue
			}
			if msg.Ready {
				close(d.ready)
				continue
			}
			d.mu.Lock()
			for _, p := range msg.Body.Parts {
				d.posts = append(d.posts, msg.Path.ID+": "+p.Text)
			}
			d.mu.Unlock()
		}
	}()
	t.Cleanup(func() { d.stop(); stderr.Close() })
	select {
	case <-d.ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("the plugin driver did not start within 30s; stderr: %s", readFile(stderr.Name()))
	}
	return d
}

func (d *driver) stop() {
	if d.cmd.Process != nil {
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		d.cmd.Wait()
	}
}

// started feeds the plugin a bgmux_start_task result for session.
func (d *driver) started(session, taskJSON string) {
	d.t.Helper()
	d.tool(session, "bgmux_start_task", taskJSON)
}

// tool feeds the plugin the result of tool (a bgmux document: the CLI's
// --json output is the MCP result's structured content) for session.
func (d *driver) tool(session, tool, docJSON string) {
	d.t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(docJSON), &doc); err != nil {
		d.t.Fatalf("%s JSON: %v: %s", tool, err, docJSON)
	}
	result := map[string]any{"content": []any{map[string]any{"type": "text", "text": "summary\n\n" + docJSON}}, "structuredContent": doc}
	if err := d.stdin.Encode(map[string]any{"tool": tool, "session": session, "result": result}); err != nil {
		d.t.Fatal(err)
	}
}

// status feeds the plugin a session.status event: session busy or idle.
func (d *driver) status(session string, busy bool) {
	d.t.Helper()
	typ := "idle"
	if busy {
		typ = "busy"
	}
	ev := map[string]any{"id": "e1", "type": "session.status", "properties": map[string]any{"sessionID": session, "status": map[string]any{"type": typ}}}
	if err := d.stdin.Encode(map[string]any{"event": ev}); err != nil {
		d.t.Fatal(err)
	}
}

func (d *driver) Posts() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.posts...)
}

// waitPost waits for a post holding want and returns it.
func (d *driver) waitPost(want string) string {
	d.t.Helper()
	var got string
	if !poll(60*time.Second, func() bool {
		for _, p := range d.Posts() {
			if strings.Contains(p, want) {
				got = p
				return true
			}
		}
		return false
	}) {
		d.t.Fatalf("the plugin never posted a message with %q; it posted %q", want, d.Posts())
	}
	return got
}

// followers counts the `bgmux events --follow` processes whose parent is pid.
func followers(pid int) int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		cmd, err2 := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || err2 != nil || !strings.Contains(string(cmd), "events\x00--follow") {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			n++
		}
	}
	return n
}

// TestOpenCodePluginRestartPolicies: what the plugin reports, once each,
// for tasks with a restart policy: an exit followed by restarting is not
// the end, the last one before gave_up is (with why); a loss is; a stop of a running
// task is one message (killed); a stop while waiting to restart is one
// message. While the session is busy an end waits until it is idle, and
// one the session saw in a wait_task result is not told. A task that
// exits 0 ends the list: once its message is posted,
// every earlier event of the session has been looked at. A second plugin
// process (an OpenCode restart) posts nothing of it again. Each process
// runs one `bgmux events --follow`, for two copies of the plugin.
func TestOpenCodePluginRestartPolicies(t *testing.T) {
	w := newWorld(t)
	w.bgmux("setup", "opencode", "--bin", bgmuxBin)
	plugin := filepath.Join(w.Work, ".opencode", "plugin", "bgmux.js")
	d := startDriver(t, w, plugin)
	const ses = "ses_test1"

	// A task whose supervisor is killed is lost once restore looks.
	var gone struct {
		ID string `json:"id"`
	}
	goneJSON := w.bgmux("start", "--json", "--name", "gone", "--", "sleep", "300")
	json.Unmarshal([]byte(goneJSON), &gone)
	d.started(ses, goneJSON)
	var run struct {
		SupervisorPID int `json:"supervisor_pid"`
		PGID          int `json:"pgid"`
	}
	b, _ := os.ReadFile(filepath.Join(w.State, "tasks", gone.ID, "run"))
	if json.Unmarshal(b, &run) != nil || run.SupervisorPID <= 1 || run.PGID <= 1 {
		t.Fatalf("gone's run record: %s", b)
	}
	syscall.Kill(run.SupervisorPID, syscall.SIGKILL)
	syscall.Kill(-run.PGID, syscall.SIGKILL)
	if !poll(10*time.Second, func() bool { return !pidAlive(run.SupervisorPID) }) {
		t.Fatal("gone's supervisor outlived SIGKILL")
	}
	w.bgmux("restore")
	lost := d.waitPost("task gone (")
	t.Logf("gone:\n%s", lost)
	if !strings.Contains(lost, "lost") {
		t.Errorf("gone's message does not say it was lost:\n%s", lost)
	}

	d.started(ses, w.bgmux("start", "--json", "--name", "flaky", "--restart", "on-failure", "--max-restarts", "1", "--", "sh", "-c", "sleep 0.5; exit 5"))
	d.started(ses, w.bgmux("start", "--json", "--name", "svc", "--restart", "always", "--", "sleep", "300"))
	d.started(ses, w.bgmux("start", "--json", "--name", "retry", "--restart", "on-failure", "--max-restarts", "9", "--", "sh", "-c", "exit 1"))
	if !poll(30*time.Second, func() bool { return followers(d.cmd.Process.Pid) == 1 }) || followers(d.cmd.Process.Pid) != 1 {
		t.Errorf("the plugin process runs %d bgmux events --follow, want 1 (for two copies of the plugin)", followers(d.cmd.Process.Pid))
	}

	gaveUp := d.waitPost("task flaky (")
	t.Logf("flaky:\n%s", gaveUp)
	if !strings.Contains(gaveUp, "exited 5") || !strings.Contains(gaveUp, "max_restarts (1) reached") {
		t.Errorf("flaky's message does not say it exited 5 and gave up:\n%s", gaveUp)
	}
	w.bgmux("stop", "svc")
	killed := d.waitPost("task svc (")
	if !strings.Contains(killed, "killed") {
		t.Errorf("svc's message does not say it was killed:\n%s", killed)
	}
	// retry waits 1s, 2s, 4s... between runs: stop it while it waits.
	if !poll(30*time.Second, func() bool { return strings.Contains(w.bgmux("status", "retry", "--json"), `"next_restart_at":"`) }) {
		t.Fatalf("retry never waited to restart: %s", w.bgmux("status", "retry", "--json"))
	}
	w.bgmux("stop", "retry")
	stopped := d.waitPost("task retry (")
	if !strings.Contains(stopped, "stopped while waiting to restart") {
		t.Errorf("retry's message does not say it was stopped while waiting to restart:\n%s", stopped)
	}

	// While the session runs a turn, an end waits for it to be idle; one
	// the session saw itself (wait_task) is not told at all.
	d.status(ses, true)
	d.started(ses, w.bgmux("start", "--json", "--name", "seen", "--", "true"))
	d.started(ses, w.bgmux("start", "--json", "--name", "later", "--", "true"))
	d.tool(ses, "bgmux_wait_task", w.bgmux("wait", "seen", "--json"))
	w.bgmux("wait", "later")
	d.status(ses, false)
	d.waitPost("task later (")

	d.started(ses, w.bgmux("start", "--json", "--name", "last", "--", "true"))
	d.waitPost("task last (")
	posts := d.Posts()
	for name, want := range map[string]int{"gone": 1, "flaky": 1, "svc": 1, "retry": 1, "seen": 0, "later": 1, "last": 1} {
		n := 0
		for _, p := range posts {
			if strings.Contains(p, "task "+name+" (") {
				n++
			}
		}
		if n != want {
			t.Errorf("%d messages about %s, want %d: %q", n, name, want, posts)
		}
	}
	if len(posts) != 6 {
		t.Errorf("the plugin posted %d messages, want 6: %q", len(posts), posts)
	}
	// later was told after the session became idle, after what came before.
	if i := len(posts) - 2; i < 0 || !strings.Contains(posts[i], "task later (") {
		t.Errorf("later's message is not the one before last's: %q", posts)
	}
	for _, p := range posts {
		if !strings.HasPrefix(p, ses+": bgmux: task ") {
			t.Errorf("a message not into %s or not a bgmux notice: %q", ses, p)
		}
	}

	// An OpenCode restart: a new plugin process with the same state.
	d.stop()
	d2 := startDriver(t, w, plugin)
	d2.started(ses, w.bgmux("start", "--json", "--name", "sentinel", "--", "true"))
	d2.waitPost("task sentinel (")
	if posts := d2.Posts(); len(posts) != 1 {
		t.Errorf("after a restart the plugin posted %q, want only the sentinel's end", posts)
	}
}
