package tmuxctl

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestListPanesIsOneInvocation(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	// 50 windows in one raw command list, each tagged with a task id.
	args := []string{"new-session", "-d", "-s", "many", "-n", "w0", "cat", ";", "set-option", "-w", "-t", "=many:=w0", TaskOption, "bg-0"}
	for i := 1; i < 50; i++ {
		w := "w" + strconv.Itoa(i)
		args = append(args, ";", "new-window", "-d", "-t", "=many:", "-n", w, "cat",
			";", "set-option", "-w", "-t", "=many:="+w, TaskOption, "bg-"+strconv.Itoa(i))
	}
	raw(t, s, args...)

	calls := 0
	s.trace = func([]string) { calls++ }
	panes, err := s.ListPanes(ctx)
	s.trace = nil
	if err != nil {
		t.Fatalf("ListPanes: %v", err)
	}
	if calls != 1 {
		t.Fatalf("ListPanes ran tmux %d times for 50 windows, want 1", calls)
	}
	seen := map[string]bool{}
	for _, p := range panes {
		if p.Session != "many" || p.Dead || p.PID <= 0 || !windowIDRE.MatchString(p.Window) {
			t.Fatalf("unexpected pane %+v", p)
		}
		seen[p.TaskID] = true
	}
	if len(panes) != 50 || len(seen) != 50 {
		t.Fatalf("ListPanes gave %d panes with %d distinct task ids, want 50 and 50", len(panes), len(seen))
	}
}

func TestParsePanesSkipsJunk(t *testing.T) {
	out := "%1\t@1\t$1\t42\t0\t\tbg-a\tmy\tgroup\n" + // a tab in the last field stays in it
		"garbage line\n" +
		"%2\t@2\t$1\t43\t1\t3\t\tg\n"
	got := parsePanes(out)
	if len(got) != 2 {
		t.Fatalf("parsePanes = %+v, want 2 panes", got)
	}
	if got[0].Session != "my\tgroup" || got[0].TaskID != "bg-a" || got[0].PID != 42 || got[0].Dead {
		t.Fatalf("first pane %+v", got[0])
	}
	if !got[1].Dead || got[1].DeadStatus != "3" || got[1].TaskID != "" {
		t.Fatalf("second pane %+v", got[1])
	}
}

func TestSendTextIsLiteral(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "typed")
	sp := spec("g", "cat", "sh", "-c", `cat > "$0"`, out)
	w, err := s.NewWindow(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		`echo "$HOME" 'single' $(id) ;`,
		`-l starts with a dash and ends with \;`,
		"#{pane_id} Enter C-c ;",
		";",
	}
	want := ""
	for _, text := range texts {
		if err := s.SendText(ctx, w.Pane, text, true); err != nil {
			t.Fatalf("SendText(%q): %v", text, err)
		}
		want += text + "\n"
		waitFile(t, out, want)
	}
	// Without enter, the text waits on the line until Enter comes.
	if err := s.SendText(ctx, w.Pane, "partial;", false); err != nil {
		t.Fatal(err)
	}
	if err := s.SendText(ctx, w.Pane, "", true); err != nil {
		t.Fatal(err)
	}
	waitFile(t, out, want+"partial;\n")
}

func TestSendTextToRead(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "line")
	w, err := s.NewWindow(ctx, spec("g", "read", "sh", "-c", `IFS= read -r line; printf '%s' "$line" > "$0"; exec sleep 1000`, out))
	if err != nil {
		t.Fatal(err)
	}
	text := `it's "$HOME" \n ;`
	if err := s.SendText(ctx, w.Pane, text, true); err != nil {
		t.Fatal(err)
	}
	waitFile(t, out, text)
}

func TestSendKeyInterrupts(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	w, err := s.NewWindow(ctx, spec("g", "sleep", "sleep", "1000"))
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "sleep to run", func() bool {
		return strings.TrimSpace(raw(t, s, "display-message", "-p", "-t", w.Pane, "#{pane_current_command}")) == "sleep"
	})
	// The pane's command can be "sleep" a moment before sleep's terminal is
	// fully set up on a loaded machine; a key typed then is lost, as it
	// would be for a person. Type C-c again until the pane dies.
	waitUntil(t, 20*time.Second, "C-c to end sleep", func() bool {
		if err := s.SendKey(ctx, w.Pane, "C-c"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			if p, ok := paneByID(t, s, w.Pane); ok && p.Dead {
				return true
			}
			<-time.After(20 * time.Millisecond)
		}
		return false
	})
	waitDead(t, s, w.Pane)
	if _, err := os.Stat("/proc/" + strconv.Itoa(w.PanePID)); err == nil {
		waitUntil(t, 20*time.Second, "sleep to be gone", func() bool {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(w.PanePID) + "/stat")
			return err != nil || strings.Contains(string(b), ") Z ")
		})
	}
}

// TestListPanesServerWithoutSessions: a server whose last session has just
// closed (it answers "no current target" until it exits) has no panes;
// it is not an error. Seen when a task's window, its group's last, was
// killed and the task was shown again at once (issue 13).
func TestListPanesServerWithoutSessions(t *testing.T) {
	s := newTestServer(t)
	raw(t, s, "start-server", ";", "set-option", "-g", "exit-empty", "off")
	panes, err := s.ListPanes(testCtx(t))
	if err != nil || len(panes) != 0 {
		t.Fatalf("ListPanes on a server without sessions: %v, %v; want none and no error", panes, err)
	}
}
