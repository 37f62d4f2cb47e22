package tasks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/bgmux/bgmux/control"
	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/proc"

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
	if err := m.otherSocket(t); err != nil {
		return nil, err
	}
	if nt, done, err := m.restartThroughSupervisor(ctx, t); done {
		return nt, err
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
	// Ask tmux first: a server that does not answer fails the restart
	// before the task is stopped.
	owned := false
	if t.window != nil {
		var err error
		if owned, err = m.ownsPane(ctx, t); err != nil {
			return nil, tmuxErr(err, "restart "+t.ID)
		}
	}
	if t.Live() || t.liveGroup() != 0 {
		if t, err = m.Stop(ctx, t, StopOptions{Signal: "TERM", Grace: -1}); err != nil {
			return nil, err
		}
	}
	if t.run != nil {
		run := t.run
		waitFor(ctx, exitRecordWait, func() bool { return !proc.Alive(run.SupervisorPID, run.SupervisorStart) })
		if proc.Alive(run.SupervisorPID, run.SupervisorStart) {
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
	// The new supervisor runs only with this restart's token: should the
	// tmux call below give up and tmux run it later anyway, the token is
	// withdrawn first (abandonRestart) and that supervisor runs nothing.
	launch, err := m.Store.newLaunchToken(t.ID)
	if err != nil {
		return nil, wrap(m.Store.unwritable(err), "restart %s", t.ID)
	}
	argv := m.supervisorArgv(exe, t.ID, launch)
	respawned := false
	if t.window != nil && !owned {
		// Pane ids start again on a new tmux server: the recorded id may
		// now belong to another task, whose pane respawn -k would kill.
		t.window = nil
	}
	if t.window != nil {
		err := m.Tmux.RespawnPane(ctx, t.window.Pane, t.Cwd, argv)
		switch {
		case err == nil:
			respawned, spawned = true, true
		case errors.Is(err, tmuxctl.ErrNotInstalled):
			return nil, tmuxErr(err, "restart "+t.ID)
		case !errors.Is(err, tmuxctl.ErrNoServer) && !errors.Is(err, tmuxctl.ErrNoTarget):
			if !m.abandonRestart(t.ID, prevRun) {
				return nil, tmuxErr(err, "restart "+t.ID+": respawn pane")
			}
			// Its supervisor began all the same: the restart happened.
			respawned, spawned = true, true
		}
	}
	var sup WindowRecord
	if respawned {
		if afterRespawn != nil {
			afterRespawn()
		}
		if sup, err = m.recordRespawned(ctx, t); err != nil {
			// As when a new window cannot be recorded (openWindow).
			if !m.abandonRestart(t.ID, prevRun) {
				spawned = false // its supervisor runs nothing: nobody takes the reserve
				return nil, err
			}
			// Its supervisor began all the same: the restart happened.
			windowUnrecorded(t.ID, err)
		}
	} else {
		if _, err := m.openWindow(ctx, t.spec, exe, launch); err != nil {
			if !m.abandonRestart(t.ID, prevRun) {
				return nil, err
			}
			// Its supervisor began all the same: record where it runs.
			if err := m.recordWindowOf(ctx, t.spec); err != nil {
				windowUnrecorded(t.ID, err)
			}
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
		return recorded() || sup.PanePID > 0 && !proc.Alive(sup.PanePID, sup.PaneStart)
	})
	if !recorded() && sup.PanePID > 0 && !proc.Alive(sup.PanePID, sup.PaneStart) {
		os.Remove(m.Store.Path(t.ID, NextReserveFile))
		var win WindowRecord // the window the restart ran in
		readJSON(m.Store.Path(t.ID, WindowFile), &win)
		var err error = Errorf(KindFailed, "restart %s: its supervisor ended without starting the command (see its window: %s)", t.ID, attachCommand(t.spec.Socket, t.Tmux.Session, t.Name, win.Window))
		if free, ok := diskFree(m.Store.Dir); ok && free < ReserveSize {
			err = wrap(m.Store.unwritable(syscall.ENOSPC), "restart %s", t.ID)
		}
		return nil, err
	}
	return m.Get(t.ID)
}

// windowUnrecorded reports on stderr a restart whose run began in a window
// that could not be recorded: the restart happened, so it does not fail.
func windowUnrecorded(id string, err error) {
	fmt.Fprintf(os.Stderr, "[bgmux] restart %s: the new run started, but its window could not be recorded: %v\n", id, err)
}

// afterRespawn, when set (by tests), runs once a restart has respawned
// the task's pane, before the pane is listed and recorded.
var afterRespawn func()

// restartThroughSupervisor asks a live supervisor to end the task's run
// and start the next itself: one supervisor numbers the runs, so
// restarts cannot race. done is false when no supervisor takes the
// request (there is none, or it is ending): the caller then starts a new
// supervisor.
func (m *Manager) restartThroughSupervisor(ctx context.Context, t *Task) (nt *Task, done bool, err error) {
	if !t.supervisorAlive() {
		return nil, false, nil
	}
	if err := os.Remove(m.Store.Path(t.ID, StopFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, true, wrap(err, "restart %s", t.ID)
	}
	grace := time.Duration(m.Config.StopGrace)
	rep, err := m.controlAsk(t, control.Request{Op: "restart", GraceMS: grace.Milliseconds()}, grace+supervisorReadyTimeout+exitRecordWait)
	switch {
	case errors.Is(err, control.ErrNoAnswer), err == nil && rep.Ending:
		return nil, false, nil
	case err != nil:
		return nil, true, Errorf(KindFailed, "restart %s: %v", t.ID, err)
	case !rep.OK:
		return nil, true, Errorf(KindFailed, "restart %s: %s", t.ID, rep.Error)
	}
	nt, err = m.Get(t.ID)
	return nt, true, err
}

// ownsPane reports whether the task's recorded pane still exists and is
// still the task's (its window carries the task's @bgmux_id); no server
// means no pane, a server that fails to answer is an error.
func (m *Manager) ownsPane(ctx context.Context, t *Task) (bool, error) {
	panes, err := m.Tmux.ListPanes(ctx)
	if err != nil {
		return false, err
	}
	for _, p := range panes {
		if p.Pane == t.window.Pane {
			return p.TaskID == t.ID, nil
		}
	}
	return false, nil
}

// recordRespawned writes the window record of the task's respawned pane
// and returns it: the pane keeps its id, its process is new. A pane tmux
// no longer lists is no record (a zero one) and no error.
func (m *Manager) recordRespawned(ctx context.Context, t *Task) (WindowRecord, error) {
	panes, err := m.Tmux.ListPanes(ctx)
	if err != nil {
		return WindowRecord{}, tmuxErr(err, "restart "+t.ID+": list its respawned pane")
	}
	for _, p := range panes {
		if p.Pane == t.window.Pane {
			sup := *t.window
			sup.PanePID, sup.PaneStart, sup.BootID = p.PID, proc.Start(p.PID), proc.BootID()
			if err := fileutil.WriteJSON(m.Store.Path(t.ID, WindowFile), sup); err != nil {
				return WindowRecord{}, wrap(m.Store.unwritable(err), "restart %s: record its window", t.ID)
			}
			return sup, nil
		}
	}
	return WindowRecord{}, nil
}

// recordWindowOf writes the window record of the task's window as tmux
// shows it (found by its @bgmux_id); no such window is not an error.
func (m *Manager) recordWindowOf(ctx context.Context, spec *Spec) error {
	panes, err := m.Tmux.ListPanes(ctx)
	if err != nil {
		return tmuxErr(err, "list tmux panes")
	}
	for _, p := range panes {
		if p.TaskID == spec.ID {
			return fileutil.WriteJSON(m.Store.Path(spec.ID, WindowFile), WindowRecord{
				Socket: m.Tmux.Socket, Session: p.Session, SessionID: p.SessionID,
				Window: p.Window, Pane: p.Pane, PanePID: p.PID,
				PaneStart: proc.Start(p.PID), BootID: proc.BootID(),
			})
		}
	}
	return nil
}
