package tasks

import (
	"context"
	"time"

	"github.com/bgmux/bgmux/eventlog"
)

// WaitAny waits until the current run of the first of ts ends, or
// timeout (0: no limit) passes, and returns the result for that task as
// Wait without For would (Ended with its status; TimedOut, with Task nil,
// after the timeout). A task whose current run has already ended answers
// at once, the first such in the order given. It reacts to the exited,
// killed and lost events of the event log (file notifications on its
// directory) and looks at the tasks' records on a poll too, so a task
// lost without an event (its supervisor killed) still ends the wait. A
// cancelled ctx ends the wait with ctx's error.
func (m *Manager) WaitAny(ctx context.Context, ts []*Task, timeout time.Duration) (*WaitResult, error) {
	start := time.Now()
	events, errs, closeWatch := m.eventWatch()
	defer closeWatch()
	mark := m.Store.eventsLast()
	runs := map[string]int{}
	for _, t := range ts {
		runs[t.ID] = 0
	}
	done := func(id string, res *WaitResult) (*WaitResult, error) {
		t, err := m.Get(id)
		if err != nil {
			return nil, err
		}
		res.Task, res.Elapsed = t, time.Since(start)
		if res.Run == 0 {
			res.Run = t.Runs
		}
		return res, nil
	}
	// look checks each task's records: the run waited on is adopted on
	// the first look that shows one.
	look := func() (string, *WaitResult, error) {
		for _, t := range ts {
			nt, err := m.Store.load(t.ID)
			if err == nil && nt.State == Lost {
				nt, err = m.Store.load(t.ID) // an exit record just being written
			}
			if err != nil {
				return "", nil, err
			}
			run := runs[t.ID]
			if run == 0 {
				if nt.run == nil && !nt.State.Finished() {
					continue // not started yet
				}
				if nt.run != nil {
					run, runs[t.ID] = nt.run.Run, nt.run.Run
				}
			}
			// As Wait decides it: the run has an exit record, a later
			// run has begun, or the task is lost.
			ended := nt.State == Lost || nt.run == nil ||
				nt.exit != nil && nt.exit.Run >= run || nt.run.Run > run
			if ended {
				w := &waiter{m: m, id: t.ID, run: run}
				res := w.ended(nt)
				res.Run = run
				return t.ID, res, nil
			}
		}
		return "", nil, nil
	}
	if id, res, err := look(); res != nil || err != nil {
		if err != nil {
			return nil, err
		}
		return done(id, res)
	}
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	var deadline <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		deadline = timer.C
	}
	for {
		timedOut := false
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline:
			timedOut = true
		case <-events:
		case <-errs:
		case <-tick.C:
		}
		res, err := m.Store.Events().Read(mark, func(e *eventlog.Event) bool {
			run, ok := runs[e.ID]
			return ok && e.Ends() && e.Run >= run
		})
		if err == nil {
			mark = max(mark, res.Last)
			for _, e := range res.Events {
				st := 1
				if e.ExitStatus != nil {
					st = *e.ExitStatus
				}
				return done(e.ID, &WaitResult{Ended: true, Status: st, Run: e.Run})
			}
		}
		if id, res, err := look(); res != nil || err != nil {
			if err != nil {
				return nil, err
			}
			return done(id, res)
		}
		if timedOut {
			return &WaitResult{TimedOut: true, Elapsed: time.Since(start)}, nil
		}
	}
}
