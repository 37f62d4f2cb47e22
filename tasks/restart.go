package tasks

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"

	"github.com/bgmux/bgmux/tmuxctl"
)

// Restart runs the task again with the same spec and id and the next run
// number: a live task is stopped first (TERM, then KILL after the grace
// period); the new run starts in the same window when it is still there
// (its old output stays visible above), else in a new one. The previous
// runs' exits stay in the task's history.
//
// Restarts of one task are serialised (by its restart lock): one that
// finds another under way waits for it, then restarts the run that one
// started. Before anything is stopped, the new run is made sure of a
// disk reserve (the stopped supervisor's, handed over, else a new one),
// so that on a full disk restart fails as start does and the command
// does not run unrecorded.
func (m *Manager) Restart(ctx context.Context, t *Task) (*Task, error) {
	// A state dir that cannot be written fails before the task is stopped.
	if err := m.Store.checkWritable(); err != nil {
		return nil, err
	}
	unlock, err := m.Store.lockRestart(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another restart may have run meanwhile: restart the task as it is.
	if t, err = m.Store.load(t.ID); err != nil {
		return nil, err
	}
	if t.window != nil && t.window.Socket != m.Tmux.Socket {
		return nil, Errorf(KindConflict, "task %s lives on tmux socket %q, not %q; set BGMUX_SOCKET=%s", t.ID, t.window.Socket, m.Tmux.Socket, tmuxctl.ShellQuote(t.window.Socket))
	}
	exe, err := m.Store.supervisorBinary(m.Exe)
	if err != nil {
		return nil, wrap(err, "restart: prepare the supervisor binary")
	}
	undoReserve, err := m.Store.prepareReserve(t.ID)
	if err != nil {
		return nil, wrap(m.Store.unwritable(err), "restart %s", t.ID)
	}
	spawned := false
	defer func() {
		if !spawned {
			undoReserve()
		}
	}()
	if t.Live() || t.liveGroup() != 0 {
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
	// No supervisor is left to take the reserve back.
	undoReserve = func() { os.Remove(m.Store.Path(t.ID, NextReserveFile)) }
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
			respawned, spawned = true, true
		case errors.Is(err, tmuxctl.ErrNotInstalled):
			return nil, tmuxErr(err, "restart "+t.ID)
		case !errors.Is(err, tmuxctl.ErrNoServer) && !strings.Contains(err.Error(), "can't find"):
			return nil, tmuxErr(err, "restart "+t.ID+": respawn pane")
		}
	}
	var sup WindowRecord
	if respawned {
		// The pane keeps its id; its process is new.
		panes, _ := m.Tmux.ListPanes(ctx)
		for _, p := range panes {
			if p.Pane == t.window.Pane {
				sup = *t.window
				sup.PanePID, sup.PaneStart, sup.BootID = p.PID, procStart(p.PID), BootID()
				writeJSON(m.Store.Path(t.ID, WindowFile), sup)
			}
		}
	} else {
		if err := m.openWindow(ctx, t.spec, exe); err != nil {
			return nil, err
		}
		spawned = true
		readJSON(m.Store.Path(t.ID, WindowFile), &sup)
	}
	runPath := m.Store.Path(t.ID, RunFile)
	recorded := func() bool {
		var r Run
		return readJSON(runPath, &r) == nil && r.Run > prevRun || m.Store.hasExit(t.ID, prevRun+1)
	}
	waitFor(ctx, supervisorReadyTimeout, func() bool {
		return recorded() || sup.PanePID > 0 && !procAlive(sup.PanePID, sup.PaneStart)
	})
	if !recorded() && sup.PanePID > 0 && !procAlive(sup.PanePID, sup.PaneStart) {
		os.Remove(m.Store.Path(t.ID, NextReserveFile))
		var err error = Errorf(KindFailed, "restart %s: its supervisor ended without starting the command (see its window: %s)", t.ID, attachCommand(t.spec.Socket, t.Tmux.Session, t.Name))
		if free, ok := diskFree(m.Store.Dir); ok && free < reserveSize {
			err = wrap(m.Store.unwritable(syscall.ENOSPC), "restart %s", t.ID)
		}
		return nil, err
	}
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
