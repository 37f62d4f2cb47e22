package tasks

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/tmuxctl"
)

// TestOtherSocketIsAConflict: screen, send and restart of a task whose
// window lives on another tmux server refuse it alike, before any tmux
// call, naming the socket to set.
func TestOtherSocketIsAConflict(t *testing.T) {
	root := t.TempDir()
	s := OpenStore(filepath.Join(root, "state"))
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	m := &Manager{Store: s, Cwd: root, Tmux: tmuxctl.New("bgmux-test-nosuch-" + filepath.Base(root))}
	ftTask(t, s, "bg-other1", "other")
	win := WindowRecord{Socket: "elsewhere", Session: "g", SessionID: "$1", Window: "@1", Pane: "%1"}
	if err := fileutil.WriteJSON(s.Path("bg-other1", WindowFile), win); err != nil {
		t.Fatal(err)
	}
	task, err := m.Get("bg-other1")
	if err != nil {
		t.Fatal(err)
	}
	task.State = Running // Send refuses a finished task before it looks at the window
	ctx := context.Background()
	_, screenErr := m.Screen(ctx, task, 0)
	_, restartErr := m.Restart(ctx, task)
	for what, err := range map[string]error{
		"screen":  screenErr,
		"send":    m.Send(ctx, task, SendOptions{Text: "x"}),
		"restart": restartErr,
	} {
		if KindOf(err) != KindConflict || !strings.Contains(err.Error(), `task bg-other1 lives on tmux socket "elsewhere", not "`+m.Tmux.Socket+`"; set BGMUX_SOCKET=elsewhere`) {
			t.Errorf("%s: %v, want the other-socket conflict", what, err)
		}
	}
}
