package tasks

import (
	"context"
	"errors"
	"time"

	"github.com/bgmux/bgmux/control"
	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/proc"

	"github.com/bgmux/bgmux/tmuxctl"
)

// A task outlives its window: when the tmux server goes away (killed,
// crashed) or the window is closed by hand, the supervisor goes on
// running the task. Such a task is given a window again by attach,
// restore and the next start in its group: a window running the viewer
// (View), which shows the task's output by way of its supervisor.

// windowless reports whether live task t has no window on this manager's
// server: no live pane there carries its id. panes is the server's pane
// listing (nil when the server is not running), taken after t was seen
// alive: a task whose start is under way has its window (made with its
// id in one tmux call) before its supervisor runs.
func (m *Manager) windowless(t *Task, panes []tmuxctl.Pane) bool {
	if !t.supervisorAlive() || t.spec.Socket != m.Tmux.Socket {
		return false
	}
	for _, p := range panes {
		if p.TaskID == t.ID && !p.Dead {
			return false
		}
	}
	return true
}

// giveWindow opens a viewer window for live task t in its group's
// session and records it as the task's window.
func (m *Manager) giveWindow(ctx context.Context, t *Task) error {
	exe, err := m.Store.supervisorBinary(m.Exe)
	if err != nil {
		return wrap(err, "show %s: prepare the bgmux binary", t.ID)
	}
	win, err := m.Tmux.NewWindow(ctx, tmuxctl.WindowSpec{
		Session:  t.spec.Group,
		Name:     t.spec.Name,
		TempName: t.ID + "-view",
		Cwd:      t.spec.Cwd,
		Argv:     []string{exe, ViewCommand, "--state-dir", m.Store.Dir, t.ID},
		Options:  map[string]string{tmuxctl.TaskOption: t.ID, tmuxctl.StateOption: "running"},
	})
	if err != nil {
		return tmuxErr(err, "show "+t.Name+": create window")
	}
	rec := WindowRecord{
		Socket: m.Tmux.Socket, Session: t.spec.Group, SessionID: win.SessionID,
		Window: win.Window, Pane: win.Pane, PanePID: win.PanePID,
		PaneStart: proc.Start(win.PanePID), BootID: proc.BootID(), Viewer: true,
	}
	if err := m.Store.withRecordLock(t.ID, func() error { return fileutil.WriteJSON(m.Store.Path(t.ID, WindowFile), rec) }); err != nil {
		return wrap(m.Store.unwritable(err), "show %s: record window", t.ID)
	}
	t.window = &rec
	t.fillTmux()
	return nil
}

// showWindowless gives every live task of group that has no window on
// this server a window again (best effort: the caller goes on either
// way).
func (m *Manager) showWindowless(ctx context.Context, group string) {
	ids, err := m.Store.IDs()
	if err != nil {
		return
	}
	var live []*Task
	for _, id := range ids {
		if t, err := m.Store.load(id); err == nil && t.spec.Group == group && t.supervisorAlive() {
			live = append(live, t)
		}
	}
	if len(live) == 0 {
		return
	}
	panes, err := m.Tmux.ListPanes(ctx)
	if err != nil {
		return
	}
	for _, t := range live {
		if m.windowless(t, panes) {
			m.giveWindow(ctx, t)
		}
	}
}

// controlAsk sends req to live task t's supervisor and returns its
// answer; control.ErrNoAnswer when no supervisor answers.
func (m *Manager) controlAsk(t *Task, req control.Request, timeout time.Duration) (control.Reply, error) {
	if !t.supervisorAlive() {
		return control.Reply{}, control.ErrNoAnswer
	}
	rep, err := control.Call(m.Store.Path(t.ID, control.File), req, timeout)
	if err != nil && !errors.Is(err, control.ErrNoAnswer) {
		return rep, err
	}
	return rep, err
}
