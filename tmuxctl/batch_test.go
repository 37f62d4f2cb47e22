package tmuxctl

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAuditCommandLimit pins the limit batching is built on: tmux takes
// one command of CommandLimit argument bytes and refuses one byte more.
// If a tmux version moves the limit, this says so.
func TestAuditCommandLimit(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	raw(t, s, "new-session", "-d", "-s", "g")
	fixed := argBytes([]string{"display-message", "-p", ""})
	fits := strings.Repeat("x", CommandLimit-fixed)
	out, err := s.run(ctx, "display-message", "-p", fits)
	if err != nil || strings.TrimSpace(out) != fits {
		t.Fatalf("a command of %d argument bytes: %v (want tmux to take it)", CommandLimit, err)
	}
	if _, err := s.run(ctx, "display-message", "-p", fits+"x"); err == nil {
		t.Fatalf("a command of %d argument bytes worked; CommandLimit is out of date", CommandLimit+1)
	}
}

// TestAuditBatchesUnderBudget: any list of commands is cut into command
// lists of at most the budget, in order, with every command whole and
// none lost; a single command tmux could never take is an error.
func TestAuditBatchesUnderBudget(t *testing.T) {
	var cmds [][]string
	for i := 0; i < 3000; i++ {
		cmds = append(cmds, []string{"kill-window", "-t", "@" + strings.Repeat("9", i%7+1)})
	}
	cmds = append(cmds, []string{"set-option", "-w", "-t", "%1", "@x", strings.Repeat("v", commandBudget-100)})
	lists, err := batches(cmds, commandBudget)
	if err != nil {
		t.Fatal(err)
	}
	var back [][]string
	for _, l := range lists {
		if n := argBytes(l); n > commandBudget {
			t.Fatalf("a list of %d bytes, over the budget %d", n, commandBudget)
		}
		cur := []string{}
		for _, a := range l {
			if a == ";" {
				back, cur = append(back, cur), []string{}
				continue
			}
			cur = append(cur, a)
		}
		back = append(back, cur)
	}
	if len(back) != len(cmds) {
		t.Fatalf("%d commands came back from %d", len(back), len(cmds))
	}
	for i := range cmds {
		if strings.Join(back[i], " ") != strings.Join(cmds[i], " ") {
			t.Fatalf("command %d came back as %q, want %q", i, back[i], cmds[i])
		}
	}
	if len(lists) < 5 {
		t.Fatalf("%d lists for %d bytes of commands", len(lists), argBytes(cmds[0])*3000)
	}
	if _, err := batches([][]string{{"send-keys", strings.Repeat("x", CommandLimit)}}, commandBudget); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("a command longer than tmux takes: %v, want an error saying so", err)
	}
}

// TestAuditKillManyWindows: KillWindows closes more windows than one
// command list can name (the old single list failed with "command too
// long"), and only those.
func TestAuditKillManyWindows(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	raw(t, s, "new-session", "-d", "-s", "g", "-n", "keep", "sleep", "1000")
	const n = 900
	var ids []string
	for base := 0; base < n; base += 150 {
		args := []string{}
		for i := base; i < base+150; i++ {
			if len(args) > 0 {
				args = append(args, ";")
			}
			args = append(args, "new-window", "-d", "-t", "=g:", "-P", "-F", "#{window_id}", "--", "sleep", "1000")
		}
		ids = append(ids, strings.Fields(raw(t, s, args...))...)
	}
	if len(ids) != n {
		t.Fatalf("made %d windows, want %d", len(ids), n)
	}
	if err := s.KillWindows(ctx, ids); err != nil {
		t.Fatalf("KillWindows of %d windows: %v", n, err)
	}
	if got := lines(raw(t, s, "list-windows", "-a", "-F", "#{window_name}")); len(got) != 1 || got[0] != "keep" {
		t.Fatalf("windows left: %d (%q...), want only keep", len(got), got[0])
	}
}

// TestAuditLongWindowList: a window whose command list is longer than one
// invocation can carry (long paths and arguments) is still made whole:
// options and name; and text longer than one command is typed whole.
func TestAuditLongWindowList(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	deep := dir
	for len(deep) < 3000 {
		deep = filepath.Join(deep, strings.Repeat("d", 200))
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 3000)
	out := filepath.Join(dir, "got")
	sp := spec("g", "long", "sh", "-c", `printf '%s' "$1" > "$2"; stty -icanon -echo; exec cat > "$3"`, "sh", long, out, out+".typed")
	sp.Cwd = deep
	sp.Options = map[string]string{TaskOption: "bg-long", "@pad1": long, "@pad2": long, "@pad3": long, "@pad4": long}
	create, rest := s.paneTail(sp)
	if n := argBytes(create) + argBytes(append([]string(nil), flatten(rest)...)); n <= CommandLimit {
		t.Fatalf("the window's commands are %d bytes; the test needs more than %d", n, CommandLimit)
	}
	w, err := s.NewWindow(ctx, sp)
	if err != nil {
		t.Fatalf("NewWindow with a %d-byte command list: %v", argBytes(create), err)
	}
	waitFile(t, out, long)
	p, ok := paneByID(t, s, w.Pane)
	if !ok || p.TaskID != "bg-long" {
		t.Fatalf("pane %+v: want @bgmux_id bg-long", p)
	}
	if got := strings.TrimSpace(raw(t, s, "display-message", "-p", "-t", w.Pane, "#{window_name} #{@pad4}")); got != "long "+long {
		t.Fatalf("window name, last option: %.40q..., want long %.20s...", got, long)
	}
	text := strings.Repeat("0123456789", 2000) + "é;"
	if err := s.SendText(ctx, w.Pane, text, true); err != nil {
		t.Fatalf("SendText of %d bytes: %v", len(text), err)
	}
	waitFile(t, out+".typed", text+"\n")
}

func flatten(cmds [][]string) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c...)
	}
	return out
}

// TestAuditBatchesFewCommandsPerCall: a command list holds at most
// maxListCommands commands, however short they are. tmux's deadline is
// per call, and tmux takes a while per window it kills: on a loaded
// machine one call of 550 kill-window commands (all the bytes allowed
// fit) took over 5 s, so rm of many tasks failed as if tmux had stopped
// answering.
func TestAuditBatchesFewCommandsPerCall(t *testing.T) {
	cmds := make([][]string, 1000)
	for i := range cmds {
		cmds[i] = []string{"kill-window", "-t", "@" + strconv.Itoa(i)}
	}
	lists, err := batches(cmds, commandBudget)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, l := range lists {
		n := countCommands(l)
		if n > maxListCommands {
			t.Fatalf("a list of %d commands, more than %d", n, maxListCommands)
		}
		total += n
	}
	if total != len(cmds) || len(lists) != (len(cmds)+maxListCommands-1)/maxListCommands {
		t.Fatalf("%d commands in %d lists, want %d in %d", total, len(lists), len(cmds), (len(cmds)+maxListCommands-1)/maxListCommands)
	}
}
