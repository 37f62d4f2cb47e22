package tasks

import (
	"context"
	"errors"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/bgmux/bgmux/tmuxctl"
)

// paneOf returns the task's pane id on this manager's server, or an error
// that says why there is none.
func (m *Manager) paneOf(t *Task) (string, error) {
	if t.window == nil {
		return "", Errorf(KindConflict, "task %s has no window yet; try again in a moment", t.ID)
	}
	if err := m.otherSocket(t); err != nil {
		return "", err
	}
	return t.window.Pane, nil
}

// otherSocket is the error for a task whose window lives on another tmux
// server than the manager's (one the caller cannot reach without setting
// BGMUX_SOCKET); nil when its window is on this one, or it has none.
func (m *Manager) otherSocket(t *Task) error {
	if t.window == nil || t.window.Socket == m.Tmux.Socket {
		return nil
	}
	return Errorf(KindConflict, "task %s lives on tmux socket %q, not %q; set BGMUX_SOCKET=%s", t.ID, t.window.Socket, m.Tmux.Socket, tmuxctl.ShellQuote(t.window.Socket))
}

// Screen returns what the task's pane shows now: scrollback and screen
// (lines > 0 keeps the last lines rows). It needs the window to exist; the
// log has the complete output either way.
func (m *Manager) Screen(ctx context.Context, t *Task, lines int) (string, error) {
	if lines < 0 {
		return "", Errorf(KindInvalid, "--lines must be 0 or more, not %d", lines)
	}
	pane, err := m.paneOf(t)
	if err != nil {
		return "", err
	}
	out, err := m.Tmux.Capture(ctx, pane, lines)
	if err != nil {
		return "", m.windowGone(err, t, "screen")
	}
	return out, nil
}

func (m *Manager) windowGone(err error, t *Task, what string) error {
	if errors.Is(err, tmuxctl.ErrNoTarget) {
		if t.supervisorAlive() {
			return Errorf(KindConflict, "%s %s: the task runs, but its window is gone (closed, or its tmux server was restarted); bgmux attach %s gives it one again (attach --print makes it without attaching); its output is in bgmux logs %s", what, t.ID, t.ID, t.ID)
		}
		return Errorf(KindConflict, "%s %s: the task's window is gone (closed, or its tmux server was restarted); its output is in bgmux logs %s", what, t.ID, t.ID)
	}
	return tmuxErr(err, what+" "+t.ID)
}

// Attach takes a human to the task's window: attach-session from a plain
// terminal or another tmux server, switch-client from inside the same one.
func (m *Manager) Attach(ctx context.Context, t *Task, env []string, stdin io.Reader, stdout, stderr io.Writer) error {
	plan, err := m.AttachCommand(ctx, t, env)
	if err != nil {
		return err
	}
	if f, ok := stdin.(*os.File); ok && !plan.Switch && !term.IsTerminal(int(f.Fd())) {
		return Errorf(KindInvalid, "attach %s needs a terminal, and stdin is not one; a human can run: %s (to read the pane from a script, use bgmux screen %s)", t.ID, plan.CommandLine(), t.ID)
	}
	if err := m.Tmux.Attach(ctx, plan, stdin, stdout, stderr); err != nil {
		return tmuxErr(err, "attach "+t.ID)
	}
	return nil
}

// AttachCommand is how Attach reaches the task (attach --print shows
// it), once tmux has said the task's window is there. A task that runs
// without a window (its tmux server went away, or its window was closed)
// is given one first: a window showing its output by way of its
// supervisor (see giveWindow).
func (m *Manager) AttachCommand(ctx context.Context, t *Task, env []string) (tmuxctl.AttachPlan, error) {
	if _, err := m.paneOf(t); err != nil && (t.window != nil || !t.supervisorAlive()) {
		return tmuxctl.AttachPlan{}, err
	}
	panes, err := m.Tmux.ListPanes(ctx)
	if err != nil {
		return tmuxctl.AttachPlan{}, tmuxErr(err, "attach "+t.ID)
	}
	if m.windowless(t, panes) {
		if err := m.giveWindow(ctx, t); err != nil {
			return tmuxctl.AttachPlan{}, err
		}
		return m.Tmux.PlanAttach(t.window.Window, env), nil
	}
	if t.window == nil {
		return tmuxctl.AttachPlan{}, Errorf(KindConflict, "task %s has no window yet; try again in a moment", t.ID)
	}
	found := false
	for _, p := range panes {
		found = found || p.Window == t.window.Window
	}
	if !found {
		return tmuxctl.AttachPlan{}, Errorf(KindConflict, "attach %s: the task's window is gone (closed, or its tmux server was restarted); its output is in bgmux logs %s", t.ID, t.ID)
	}
	return m.Tmux.PlanAttach(t.window.Window, env), nil
}
