package tasks

import (
	"context"
	"os"
	"time"

	"github.com/bgmux/bgmux/eventlog"
	"github.com/fsnotify/fsnotify"
)

// EventQuery selects events for Manager.Events and FollowEvents.
type EventQuery struct {
	// Group limits the events to one group; "" with All and TaskID unset
	// means the current group.
	Group string
	All   bool
	// TaskID limits the events to one task (resolved by the caller).
	TaskID string
	// New reads through the cursor of Reader (default DefaultReader): only
	// events that reader has not been given in this selection.
	New    bool
	Reader string
	// Since keeps only events of the last Since (by event time).
	Since time.Duration
}

// EventsResult is one read of the event log.
type EventsResult struct {
	Events []eventlog.Event
	// Skipped counts the events rotation dropped before this read reached
	// them; Dropped those it has dropped in all.
	Skipped, Dropped int64
	// Last is the seq of the newest event in the log.
	Last int64
}

// checkEvents validates q and fills in its defaults.
func (m *Manager) checkEvents(q *EventQuery) error {
	if q.Group != "" && !q.All {
		if err := ValidateGroup(q.Group); err != nil {
			return err
		}
	}
	if q.Group == "" && !q.All && q.TaskID == "" {
		q.Group = m.CurrentGroup()
	}
	if q.New {
		if q.Reader == "" {
			q.Reader = DefaultReader
		}
		if err := ValidateReader(q.Reader); err != nil {
			return err
		}
		// A cursor is written: only in a state dir that is safe to use.
		if err := m.Store.Init(); err != nil {
			return err
		}
	}
	return nil
}

// cursorKey is the cursor file of q's reader and selection: a reader has
// a position per selection, so the same reader name in two groups (two
// agents' default) never takes the other's events.
func (q *EventQuery) cursorKey() string {
	switch {
	case q.TaskID != "":
		return q.Reader + ".task." + q.TaskID
	case q.All:
		return q.Reader + ".all"
	}
	return q.Reader + ".group." + q.Group
}

// match is q's selection (Since is measured from now).
func (q *EventQuery) match() func(*eventlog.Event) bool {
	var from time.Time
	if q.Since > 0 {
		from = time.Now().Add(-q.Since)
	}
	return func(e *eventlog.Event) bool {
		switch {
		case q.TaskID != "" && e.ID != q.TaskID:
			return false
		case !q.All && q.Group != "" && e.Group != q.Group:
			return false
		case !from.IsZero() && e.Time.Before(from):
			return false
		}
		return true
	}
}

// Events reads the events q selects, oldest first. With New it claims
// them from the reader's cursor: every event of the selection examined is
// passed, so each reader gets each event once.
func (m *Manager) Events(q EventQuery) (*EventsResult, error) {
	if err := m.checkEvents(&q); err != nil {
		return nil, err
	}
	return m.readEvents(&q, 0)
}

func (m *Manager) readEvents(q *EventQuery, after int64) (*EventsResult, error) {
	l := m.Store.Events()
	var res *eventlog.ReadResult
	var err error
	if q.New {
		res, err = l.ReadNew(q.cursorKey(), q.match())
	} else {
		res, err = l.Read(after, q.match())
	}
	if err != nil {
		return nil, wrap(err, "events: read the event log %s", l.Path())
	}
	return &EventsResult{Events: res.Events, Skipped: res.Skipped, Dropped: res.Dropped(), Last: res.Last}, nil
}

// eventsPoll is how often FollowEvents and WaitAny look when no file
// notification arrives.
const eventsPoll = 500 * time.Millisecond

// eventWatch watches the event log's directory (created if missing, in a
// state dir that is safe to use) and returns its notification channels
// (nil when notifications are not available: the poll alone drives the
// caller) and a close function.
func (m *Manager) eventWatch() (chan fsnotify.Event, chan error, func()) {
	dir := m.Store.Events().Dir
	if m.Store.Init() != nil {
		return nil, nil, func() {}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, func() {}
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, nil, func() {}
	}
	if w.Add(dir) != nil {
		w.Close()
		return nil, nil, func() {}
	}
	return w.Events, w.Errors, func() { w.Close() }
}

// FollowEvents passes the events q selects to fn as they are logged, the
// ones already in the log first, until ctx ends (it then returns nil) or
// fn fails. With New each batch is claimed from the reader's cursor. It
// reacts to appends through file notifications, with a poll as fallback;
// skipped, when set, hears of events rotation dropped before they were
// read.
func (m *Manager) FollowEvents(ctx context.Context, q EventQuery, fn func(eventlog.Event) error, skipped func(n int64) error) error {
	if err := m.checkEvents(&q); err != nil {
		return err
	}
	if err := m.Store.Init(); err != nil {
		return err
	}
	events, errs, closeWatch := m.eventWatch()
	defer closeWatch()
	tick := time.NewTicker(eventsPoll)
	defer tick.Stop()
	var after int64
	for {
		res, err := m.readEvents(&q, after)
		if err != nil {
			return err
		}
		if res.Skipped > 0 && skipped != nil {
			if err := skipped(res.Skipped); err != nil {
				return err
			}
		}
		for _, e := range res.Events {
			if err := fn(e); err != nil {
				return err
			}
		}
		if !q.New {
			after = res.Last
			q.Since = 0
		}
		if !waitChange(ctx, events, errs, tick.C) {
			return nil
		}
	}
}
