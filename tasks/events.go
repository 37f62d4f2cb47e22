package tasks

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/bgmux/bgmux/eventlog"
)

// EventsDir is the directory, inside the state dir, of the event log
// (package eventlog): events.jsonl, its rotated segment and the readers'
// cursors.
const EventsDir = "events"

// EventsMaxSizeEnv overrides the event log's rotation bound (bytes), for
// tests and tuning; every writer (supervisors included) reads it.
const EventsMaxSizeEnv = "BGMUX_EVENTS_MAX_SIZE"

// Events is the store's event log.
func (s *Store) Events() *eventlog.Log {
	l := eventlog.New(filepath.Join(s.Dir, EventsDir))
	if v, err := strconv.ParseInt(os.Getenv(EventsMaxSizeEnv), 10, 64); err == nil && v > 0 {
		l.MaxSize = v
	}
	return l
}

// Emit appends an event about the task of spec to the log. It never fails
// its caller: an event that cannot be written is reported on stderr and
// the task goes on.
func (s *Store) Emit(spec *Spec, e eventlog.Event) {
	s.emitOnce(spec, e, nil)
}

// emitOnce is emit, unless an event for which seen returns true is in the
// log already.
func (s *Store) emitOnce(spec *Spec, e eventlog.Event, seen func(*eventlog.Event) bool) {
	e.ID, e.Name, e.Group = spec.ID, spec.Name, spec.Group
	if _, _, err := s.Events().AppendUnless(e, seen); err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] cannot log the %s event of task %s: %v\n", e.Event, spec.ID, err)
	}
}

// ExitEvent is the exited or killed event of a finished run.
func ExitEvent(ex *Exit) eventlog.Event {
	st := ex.StatusCode()
	e := eventlog.Event{Event: eventlog.Exited, Run: ex.Run, Time: ex.EndedAt, ExitCode: ex.ExitCode, Signal: ex.Signal, ExitStatus: &st}
	if ex.Signal != nil {
		e.Event = eventlog.Killed
	}
	return e
}

// eventsLast is the seq of the newest event in the log (0 if none).
func (s *Store) eventsLast() int64 {
	res, err := s.Events().Read(math.MaxInt64, nil)
	if err != nil {
		return 0
	}
	return res.Last
}

// eventStopped logs that Manager.Stop (bgmux stop, kill, down, restart,
// rm --force) ended task id, once it is no longer
// live (a stop that failed logs nothing). mark is the newest event before
// the stop: the supervisor's exited or killed event, which follows its
// exit record, is waited for (while the supervisor lives), so that the
// log tells the end of the run before the stop.
func (m *Manager) eventStopped(id string, mark int64) {
	t, err := m.Store.load(id)
	if err != nil || t.Live() {
		return
	}
	if t.run != nil && t.supervisorAlive() {
		run := t.run.Run
		waitFor(context.Background(), exitRecordWait, func() bool {
			res, err := m.Store.Events().Read(mark, func(e *eventlog.Event) bool { return e.ID == id && e.Run >= run && e.Ends() })
			return err != nil || len(res.Events) > 0 || !t.supervisorAlive()
		})
	}
	msg := "stopped"
	if t.exit != nil {
		msg += " (" + DescribeExit(t.exit, t.exit.EndedAt.Sub(t.exit.StartedAt)) + ")"
	}
	m.Store.Emit(t.spec, eventlog.Event{Event: eventlog.Stopped, Run: t.Runs, Message: msg})
}

// eventLost logs the lost record restore wrote for the task.
func (m *Manager) eventLost(t *Task, ex *Exit) {
	st, reason := 1, ex.LostReason
	m.Store.Emit(t.spec, eventlog.Event{Event: eventlog.Lost, Run: ex.Run, Time: ex.EndedAt, ExitStatus: &st, LostReason: &reason,
		Message: "lost: " + reason})
}

// eventExitFromHistory logs the end of a run whose supervisor died
// between its history and its exit record (which restore then wrote from
// the history): the supervisor logs a run's end only after the exit
// record.
func (m *Manager) eventExitFromHistory(t *Task) {
	ex := t.exit
	e := ExitEvent(ex)
	e.Message = DescribeExit(ex, ex.EndedAt.Sub(ex.StartedAt))
	m.Store.emitOnce(t.spec, e, func(o *eventlog.Event) bool { return o.ID == t.ID && o.Run == ex.Run && o.Ends() })
}

// eventReady logs that a ready check (start --wait-for, up's ready)
// matched line in run, once per run: up checks a running dependency
// again on every call.
func (m *Manager) eventReady(id string, run int, line string) {
	var spec Spec
	if err := readJSON(m.Store.Path(id, SpecFile), &spec); err != nil {
		return
	}
	m.Store.emitOnce(&spec, eventlog.Event{Event: eventlog.Ready, Run: run, Line: &line, Message: "ready: " + line},
		func(o *eventlog.Event) bool { return o.ID == id && o.Run == run && o.Event == eventlog.Ready })
}
