package tasks

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/bgmux/bgmux/tmuxctl"
)

// Restart runs the task again with the same spec and id and the next run
// number: a live task is stopped first (TERM, then KILL after the grace
// period); the new run starts in the same window when it is still there
// (its old output stays visible above), else in a new one. The previous
// runs' exits stay in the task's history.
func (m *Manager) Restart(ctx context.Context, t *Task) (*Task, error) {
	// A state dir that cannot be written fails before the task is stopped.
	if err := m.Store.checkWritable(); err != nil {
		return nil, err
	}
	if t.window != nil && t.window.Socket != m.Tmux.Socket {
		return nil, Errorf(KindConflict, "task %s lives on tmux socket %q, not %q; set BGMUX_SOCKET=%s", t.ID, t.window.Socket, m.Tmux.Socket, tmuxctl.ShellQuote(t.window.Socket))
	}
	if t.Live() || t.liveGroup() != 0 {
		var err error
		if t, err = m.Stop(ctx, t, StopOptions{Signal: "TERM", Grace: -1}); err != nil {
			return nil, err
		}
	}
	if t.run != nil {
		run := t.run
		waitFor(ctx, exitRecordWait, func() bool { return !procAlive(run.SupervisorPID, run.SupervisorStart) })
		if procAlive(run.SupervisorPID, run.SupervisorStart) {
			return nil, Errorf(KindConflict, "restart %s: its supervisor (pid %d) is still finishing; try again", t.ID, run.SupervisorPID)
		}
	}
	exe, err := m.Store.supervisorBinary(m.Exe)
	if err != nil {
		return nil, wrap(err, "restart: prepare the supervisor binary")
	}
	if err := os.Remove(m.Store.Path(t.ID, StopFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, wrap(err, "restart %s", t.ID)
	}
	if err := m.Store.prepareOutput(t.ID); err != nil {
		return nil, wrap(m.Store.unwritable(err), "restart %s", t.ID)
	}
	prevRun := 0
	if t.run != nil {
		prevRun = t.run.Run
	}
	argv := []string{exe, SuperviseCommand, "--state-dir", m.Store.Dir, t.ID}
	pipe := m.Store.Path(t.ID, PipeFile)
	respawned := false
	if t.window != nil && !m.ownsPane(ctx, t) {
		// Pane ids start again on a new tmux server: the recorded id may
		// now belong to another task, whose pane respawn -k would kill.
		t.window = nil
	}
	if t.window != nil {
		err := m.Tmux.RespawnPane(ctx, t.window.Pane, t.Cwd, argv, pipe)
		switch {
		case err == nil:
			respawned = true
		case errors.Is(err, tmuxctl.ErrNotInstalled):
			return nil, tmuxErr(err, "restart "+t.ID)
		case !errors.Is(err, tmuxctl.ErrNoServer) && !strings.Contains(err.Error(), "can't find"):
			return nil, tmuxErr(err, "restart "+t.ID+": respawn pane")
		}
	}
	if respawned {
		// The pane keeps its id; its process is new.
		panes, _ := m.Tmux.ListPanes(ctx)
		for _, p := range panes {
			if p.Pane == t.window.Pane {
				rec := *t.window
				rec.PanePID, rec.PaneStart, rec.BootID = p.PID, procStart(p.PID), BootID()
				writeJSON(m.Store.Path(t.ID, WindowFile), rec)
			}
		}
	} else if err := m.openWindow(ctx, t.spec, exe); err != nil {
		return nil, err
	}
	runPath := m.Store.Path(t.ID, RunFile)
	waitFor(ctx, supervisorReadyTimeout, func() bool {
		var r Run
		return readJSON(runPath, &r) == nil && r.Run > prevRun || m.Store.hasExit(t.ID, prevRun+1)
	})
	return m.Get(t.ID)
}

// ownsPane reports whether the task's recorded pane still exists and is
// still the task's (its window carries the task's @bgmux_id).
func (m *Manager) ownsPane(ctx context.Context, t *Task) bool {
	panes, err := m.Tmux.ListPanes(ctx)
	if err != nil {
		return false
	}
	for _, p := range panes {
		if p.Pane == t.window.Pane {
			return p.TaskID == t.ID
		}
	}
	return false
}
