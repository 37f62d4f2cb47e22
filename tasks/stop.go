package tasks

import (
	"context"
	"syscall"
	"time"

	"github.com/bgmux/bgmux/proc"

	"github.com/bgmux/bgmux/fileutil"
)

// StopOptions configures Stop.
type StopOptions struct {
	// Signal is the first signal sent (default SIGTERM).
	Signal string
	// Grace is how long to wait before SIGKILL; negative means the
	// configured default.
	Grace time.Duration
}

// exitRecordWait bounds how long Stop waits for the supervisor's exit
// record after the process group is gone.
const exitRecordWait = 5 * time.Second

// Stop signals the task's whole process group, waits up to the grace
// period for it to end, then sends SIGKILL. A finished task is left alone.
func (m *Manager) Stop(ctx context.Context, t *Task, opts StopOptions) (*Task, error) {
	if opts.Signal == "" {
		opts.Signal = "TERM"
	}
	sig, _, err := ParseSignal(opts.Signal)
	if err != nil {
		return nil, err
	}
	if opts.Grace < 0 {
		opts.Grace = time.Duration(m.Config.StopGrace)
	}
	if t.State == Starting {
		// The supervisor has not reported the child yet: give it a moment.
		waitFor(ctx, supervisorReadyTimeout, func() bool {
			nt, err := m.Store.load(t.ID)
			if err == nil {
				t = nt
			}
			return err != nil || t.State != Starting
		})
	}
	pgid := t.liveGroup()
	live := t.Live()
	if !live && pgid == 0 {
		return t, nil
	}
	defer m.eventStopped(t.ID, m.Store.eventsLast())
	if live {
		// End the restart policy before signalling, so the supervisor
		// does not bring the task back.
		if err := fileutil.WriteFileAtomic(m.Store.Path(t.ID, StopFile), nil); err != nil {
			return nil, wrap(err, "stop %s: record the stop", t.ID)
		}
	}
	if pgid == 0 {
		// Between runs, waiting to restart: end the supervisor's wait.
		if t.supervisorAlive() {
			syscall.Kill(t.run.SupervisorPID, syscall.SIGTERM)
			waitFor(ctx, exitRecordWait, func() bool { return !proc.Alive(t.run.SupervisorPID, t.run.SupervisorStart) })
		}
		return m.Store.load(t.ID)
	}
	syscall.Kill(-pgid, sig)
	if sig != syscall.SIGKILL {
		waitFor(ctx, opts.Grace, func() bool { return !proc.GroupAlive(pgid) })
		if ctx.Err() != nil && proc.GroupAlive(pgid) {
			// The stop was interrupted: its grace period is the task's,
			// so no SIGKILL now.
			return nil, Errorf(KindFailed, "the stop of %s (%s) was interrupted in its grace period: it got %s, not SIGKILL, and may still be running; stop it again, or kill it", t.Name, t.ID, SignalName(sig))
		}
	}
	if proc.GroupAlive(pgid) {
		syscall.Kill(-pgid, syscall.SIGKILL)
		waitFor(ctx, exitRecordWait, func() bool { return !proc.GroupAlive(pgid) })
	}
	if t.supervisorAlive() {
		run := t.run
		waitFor(ctx, exitRecordWait, func() bool {
			return m.Store.hasExit(t.ID, run.Run) || !proc.Alive(run.SupervisorPID, run.SupervisorStart)
		})
	}
	return m.Store.load(t.ID)
}

// hasExit reports whether the exit record of run (or a later one) exists.
func (s *Store) hasExit(id string, run int) bool {
	var ex Exit
	return readJSON(s.Path(id, ExitFile), &ex) == nil && ex.Run >= run
}

// liveGroup is the process group of the task's child while any of it is
// alive, else 0. A lost task's child may outlive its supervisor, and an
// exited leader may leave members behind.
func (t *Task) liveGroup() int {
	if t.run == nil || t.run.PGID <= 1 || t.run.BootID != proc.BootID() {
		return 0
	}
	pgid := t.run.PGID
	// The kernel does not hand out a pid that is still some group's id,
	// so a process now holding pid == pgid with another start time means
	// our group is gone and the number was reused.
	if st, _, ok := proc.StartTime(pgid); ok && st != t.run.PIDStart {
		return 0
	}
	if proc.GroupAlive(pgid) {
		return pgid
	}
	return 0
}
