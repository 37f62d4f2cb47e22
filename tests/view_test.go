package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// onTerminal runs bgmux with args in a pane of its own (a private
// session on the test's tmux server, cols columns wide), so its stdout is
// a terminal, and returns the pane's text with its escapes (capture-pane
// -e). extraEnv is added to the pane's environment.
func (e *env) onTerminal(cols int, extraEnv []string, args ...string) string {
	e.t.Helper()
	sess := "term-" + randHex(4)
	done := filepath.Join(e.State, "..", sess+".done")
	envArgs := []string{"env", "-u", "TMUX", "-u", "TMUX_PANE", "-u", "NO_COLOR"}
	for _, kv := range append(e.Environ(), extraEnv...) {
		if strings.HasPrefix(kv, "BGMUX_") || strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "HOME=") ||
			strings.HasPrefix(kv, "XDG_") || strings.HasPrefix(kv, "NO_COLOR=") || strings.HasPrefix(kv, "TERM=") {
			envArgs = append(envArgs, kv)
		}
	}
	// The pane runs bgmux, then marks it done; remain-on-exit keeps the
	// text for capture-pane.
	script := `cd "$1" && shift && "$@"; touch "$DONE"`
	cmd := append([]string{"new-session", "-d", "-s", sess, "-x", itoa(cols), "-y", "40", "-e", "DONE=" + done, "--"},
		append(append(envArgs, "sh", "-c", script, "sh", e.Dir, bgmuxBin), args...)...)
	if out, err := e.tmux(cmd...); err != nil {
		e.t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	e.t.Cleanup(func() { e.tmux("kill-session", "-t", sess); os.Remove(done) })
	if !poll(20*time.Second, func() bool { _, err := os.Stat(done); return err == nil }) {
		e.t.Fatalf("bgmux %q in a terminal did not finish", args)
	}
	out, err := e.tmux("capture-pane", "-p", "-e", "-J", "-t", sess+":")
	if err != nil {
		e.t.Fatalf("capture-pane: %v: %s", err, out)
	}
	return strings.TrimRight(out, "\n")
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestViewStoppedIsNotFailed: a task ended by bgmux stop is marked
// stopped on its window (not the red ✗ of a failure), and the status line
// does not count it as failed.
func TestViewStoppedIsNotFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	run := e.start("--name", "server", "--", "sleep", "1000")
	st := e.start("--name", "stopme", "--", "sleep", "1000")
	bad := e.start("--name", "broken", "--", "sh", "-c", "exit 1")
	e.must("stop", "stopme")
	e.waitFinished("broken")
	state := func(window string) string {
		out, _ := e.tmux("display-message", "-p", "-t", window, "#{@bgmux_state}")
		return strings.TrimSpace(out)
	}
	if !poll(10*time.Second, func() bool { return state(st.Tmux.Window) == "stopped" && state(bad.Tmux.Window) == "failed" }) {
		t.Fatalf("window states: stopped task %q, failed task %q; want stopped and failed", state(st.Tmux.Window), state(bad.Tmux.Window))
	}
	entry, _ := e.tmux("display-message", "-p", "-t", st.Tmux.Window, "#{E:window-status-format}")
	if strings.Contains(entry, "✗") || !strings.Contains(entry, "stopme") {
		t.Fatalf("window list entry of the stopped task: %q, want its name and no ✗", entry)
	}
	right, _ := e.tmux("display-message", "-p", "-t", run.Tmux.Window, "#{E:status-right}")
	if !strings.Contains(right, "1 running") || !strings.Contains(right, "1 failed") {
		t.Fatalf("status line %q, want 1 running and 1 failed (the stopped task is not a failure)", right)
	}
	// A restart of the stopped task makes it running again.
	e.must("restart", "stopme")
	if !poll(10*time.Second, func() bool { return state(st.Tmux.Window) == "running" }) {
		t.Fatalf("state after restart: %q", state(st.Tmux.Window))
	}
}

// TestViewStatusLeftFitsGroup: the status line shows the whole group name.
func TestViewStatusLeftFitsGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	group := "my-really-long-group-name"
	tk := e.start("--group", group, "--name", "a", "--", "sleep", "1000")
	out, err := e.tmux("display-message", "-p", "-t", tk.Tmux.Window, "#{status-left-length}")
	if err != nil {
		t.Fatal(err, out)
	}
	left, _ := e.tmux("display-message", "-p", "-t", tk.Tmux.Window, "#{E:status-left}")
	left = strings.TrimRight(left, "\n")
	var n int
	json.Unmarshal([]byte(strings.TrimSpace(out)), &n)
	if n < len(left) || !strings.Contains(left, group) {
		t.Fatalf("status-left %q (%d bytes) with status-left-length %d: the group name is cut", left, len(left), n)
	}
}

// TestViewEmptyAnswers: an empty list names the group and points at the
// others; a prune that removes nothing says so; --json is unchanged.
func TestViewEmptyAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, n := range []string{"a", "b", "c"} {
		e.start("--group", "elsewhere", "--name", n, "--", "true")
	}
	out := e.must("list")
	want := "no tasks in group " + e.Group + "; 3 in other groups: bgmux list --all"
	if strings.TrimSpace(out) != want {
		t.Fatalf("list with no task in the group: %q, want %q", out, want)
	}
	if out := strings.TrimSpace(e.must("list", "--json")); out != "[]" {
		t.Fatalf("list --json: %q, want []", out)
	}
	out = e.must("prune")
	wantPrune := "nothing to prune: no finished task in group " + e.Group
	if strings.TrimSpace(out) != wantPrune {
		t.Fatalf("prune that removes nothing: %q, want %q", out, wantPrune)
	}
	if out := e.must("prune", "--dry-run"); strings.TrimSpace(out) != wantPrune {
		t.Fatalf("prune --dry-run that would remove nothing: %q, want %q", out, wantPrune)
	}
	if out := strings.TrimSpace(e.must("prune", "--json")); out != `{"removed":[]}` {
		t.Fatalf("prune --json: %q", out)
	}
}

// TestViewCLIHelps: typos get a suggestion, completion scripts print, stop
// and kill take several tasks, prune --dry-run removes nothing, and
// --version is version.
func TestViewCLIHelps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.run("strat")
	if r.Code != 2 || !strings.Contains(r.Err, `"start"`) {
		t.Fatalf("bgmux strat: exit %d, stderr %q; want 2 and a suggestion of start", r.Code, r.Err)
	}
	r = e.run("start", "--nmae", "x", "--", "true")
	if r.Code != 2 || !strings.Contains(r.Err, "--name") {
		t.Fatalf("bgmux start --nmae: exit %d, stderr %q; want 2 and a suggestion of --name", r.Code, r.Err)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out := e.must("completion", sh)
		if !strings.Contains(out, "bgmux") || !strings.Contains(out, "__complete") {
			t.Fatalf("completion %s: %q", sh, out)
		}
	}
	if r := e.run("completion", "tcsh"); r.Code != 2 {
		t.Fatalf("completion tcsh: exit %d, want 2", r.Code)
	}

	e.start("--name", "one", "--", "sleep", "1000")
	e.start("--name", "two", "--", "sleep", "1000")
	e.start("--name", "three", "--", "sleep", "1000")
	e.start("--name", "other", "--group", "g2", "--", "sleep", "1000")
	out := e.must("__complete", "status", "")
	for _, n := range []string{"one", "two", "three"} {
		if !strings.Contains(out, n+"\n") {
			t.Fatalf("__complete status: %q, want %s", out, n)
		}
	}
	if strings.Contains(out, "other") {
		t.Fatalf("__complete status offers a task of another group: %q", out)
	}

	e.must("stop", "--grace", "1s", "one", "two")
	e.must("kill", "three")
	for _, n := range []string{"one", "two", "three"} {
		if s := e.status(n).State; s == "running" {
			t.Fatalf("%s still running after stop/kill", n)
		}
	}
	// A bad TASK among several: nothing is stopped.
	e.start("--name", "four", "--", "sleep", "1000")
	if r := e.run("stop", "four", "nosuch"); r.Code != 2 {
		t.Fatalf("stop four nosuch: exit %d, want 2", r.Code)
	}
	if s := e.status("four").State; s != "running" {
		t.Fatalf("four after a failed stop: %s", s)
	}

	out = e.must("prune", "--dry-run")
	for _, n := range []string{"one", "two", "three"} {
		if !strings.Contains(out, n) {
			t.Fatalf("prune --dry-run: %q, want %s", out, n)
		}
	}
	e.status("one") // still there
	var dry struct {
		WouldRemove []task `json:"would_remove"`
	}
	if err := json.Unmarshal([]byte(e.must("prune", "--dry-run", "--json")), &dry); err != nil || len(dry.WouldRemove) != 3 {
		t.Fatalf("prune --dry-run --json: %v %+v", err, dry)
	}
	e.status("two")

	if a, b := e.must("--version"), e.must("version"); a != b {
		t.Fatalf("--version %q and version %q differ", a, b)
	}
}

// TestViewListOnTerminal: on a terminal, list colours the state and cuts
// COMMAND so no row wraps; with NO_COLOR, or into a pipe, there is no
// colour. Commands are quoted as typed: an argv word by word, a shell
// string after "$ ". A finished task shows when it ended; restarts show.
func TestViewListOnTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start("--name", "srv", "--", "sleep", "1000")
	e.start("--name", "ticks", "--", "sh", "-c", `for i in 1 2; do echo "tick $i"; done`)
	e.start("--name", "bad", "--", "sh", "-c", "exit 3; "+strings.Repeat("x", 200))
	e.start("--name", "shell", `echo "a b" | cat`)
	e.waitFinished("ticks")
	e.waitFinished("bad")
	e.waitFinished("shell")

	plain := e.must("list")
	for _, want := range []string{`sh -c 'for i in 1 2; do echo "tick $i"; done'`, `$ echo "a b" | cat`, " ago ", "up ", "RESTARTS"} {
		if !strings.Contains(plain, want) {
			t.Fatalf("list into a pipe lacks %q:\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "\x1b") {
		t.Fatalf("list into a pipe has escapes: %q", plain)
	}
	if !strings.Contains(plain, strings.Repeat("x", 200)) {
		t.Fatalf("list into a pipe cut the command:\n%s", plain)
	}

	const cols = 70
	out := e.onTerminal(cols, nil, "list")
	lines := strings.Split(out, "\n")
	if len(lines) != 5 {
		t.Fatalf("list on a %d-column terminal: %d lines, want a header and 4 rows (none wrapped):\n%s", cols, len(lines), out)
	}
	var badRow string
	for _, l := range lines {
		if strings.Contains(l, " bad ") {
			badRow = l
		}
	}
	if !strings.Contains(badRow, "\x1b[") || !strings.Contains(badRow, "31m") || !strings.HasSuffix(stripEscapes(badRow), "…") {
		t.Fatalf("row of the failed task on a terminal: %q, want it red and its command cut with …", badRow)
	}
	for _, l := range lines {
		if w := len([]rune(stripEscapes(l))); w > cols {
			t.Fatalf("line of %d columns on a %d-column terminal: %q", w, cols, l)
		}
	}
	if out := e.onTerminal(cols, []string{"NO_COLOR=1"}, "list"); strings.Contains(out, "\x1b[") {
		t.Fatalf("list with NO_COLOR on a terminal has colour: %q", out)
	}
	if out := e.onTerminal(cols, nil, "status", "bad"); !strings.Contains(out, "31m") || !strings.Contains(out, "ago)") {
		t.Fatalf("status of the failed task on a terminal: %q, want it red and when it ended", out)
	}
}

// stripEscapes removes CSI escape sequences (as capture-pane -e writes
// them) from s.
func stripEscapes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
