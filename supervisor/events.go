package supervisor

import (
	"fmt"
	"time"

	"github.com/bgmux/bgmux/eventlog"
	"github.com/bgmux/bgmux/tasks"
)

// eventStarted logs that a run's child started. It is logged before the
// run record, which start and its ready checks wait for, so that no
// event of the run comes before it.
func (s *supervisor) eventStarted(rec tasks.Run) {
	pid := rec.PID
	s.store.Emit(s.spec, eventlog.Event{Event: eventlog.Started, Run: rec.Run, PID: &pid, Time: rec.StartedAt,
		Message: fmt.Sprintf("started run %d, pid %d", rec.Run, pid)})
}

// eventEnded logs how a run ended (exited or killed), then what the
// restart policy does: restarting, when delay > 0 (the wait before the
// next run, which begins now), or gave_up when it would have restarted
// but max_restarts was reached.
func (s *supervisor) eventEnded(ex tasks.Exit, delay time.Duration, restarts int) {
	if ex.EndedAt.IsZero() {
		ex.EndedAt = time.Now().UTC()
	}
	e := tasks.ExitEvent(&ex)
	e.Message = tasks.DescribeExit(&ex, ex.EndedAt.Sub(ex.StartedAt))
	s.store.Emit(s.spec, e)
	switch {
	case delay > 0:
		at := time.Now().Add(delay).UTC()
		s.store.Emit(s.spec, eventlog.Event{Event: eventlog.Restarting, Run: ex.Run, RestartAt: &at,
			Message: fmt.Sprintf("restarting in %s (restart %d)", tasks.RoundDuration(delay), restarts+1)})
	case s.gaveUp(&ex, restarts):
		s.store.Emit(s.spec, eventlog.Event{Event: eventlog.GaveUp, Run: ex.Run,
			Message: fmt.Sprintf("not restarting: max_restarts (%d) reached", *s.spec.MaxRestarts)})
	}
}

// gaveUp reports whether only max_restarts kept the restart policy from
// running the task again after ex.
func (s *supervisor) gaveUp(ex *tasks.Exit, restarts int) bool {
	if s.spec.MaxRestarts == nil || restarts < *s.spec.MaxRestarts {
		return false
	}
	mr := s.spec.MaxRestarts
	s.spec.MaxRestarts = nil
	defer func() { s.spec.MaxRestarts = mr }()
	return s.wantsRestart(ex, restarts)
}
