package tasks

import (
	"context"
	"time"

	"github.com/fsnotify/fsnotify"
)

// LogLine is one line of a followed log.
type LogLine struct {
	// Text is the line without its newline: cleaned, or raw in Raw mode.
	Text string
	// Raw is the line as written, its newline included.
	Raw []byte
	// Offset is the logical offset of the line's first byte.
	Offset int64
	// Gap reports that --grep left out lines just before this one.
	Gap bool
}

// FollowHandler receives what Follow reads, in order.
type FollowHandler struct {
	// Line is called for every selected line.
	Line func(LogLine) error
	// Lost is called when rotation dropped output: skipped bytes this
	// read had not reached yet, out of dropped bytes lost so far. It is
	// called before the first line when the log has dropped anything.
	Lost func(skipped, dropped int64) error
	// Idle, when set, is called when Follow has passed on all there is
	// and waits for more (a moment to flush buffered output).
	Idle func() error
}

// FollowResult is how a followed run ended.
type FollowResult struct {
	// Task is the task as it was when its run ended.
	Task *Task
	// EndOffset is where a later read continues.
	EndOffset int64
}

// followPoll is how often Follow looks at the log when no file
// notification arrives (notifications can be missed, and macOS's kqueue
// reports no writes to files in a watched directory).
const followPoll = 200 * time.Millisecond

// Follow streams the task's output as opts selects (Head excepted) until
// the task's current run ends (its exit record is written, or the task is
// lost), then returns the task. Lines are passed on once their newline has
// arrived; the last line without one is passed on when the run ends. It
// reacts to writes through file notifications on the task's directory,
// with a short poll as a fallback. With New, each batch is claimed from
// the reader's cursor under the cursor lock, so two followers or readers
// with the same name never get the same line.
func (m *Manager) Follow(ctx context.Context, t *Task, opts LogOptions, h FollowHandler) (*FollowResult, error) {
	q, err := opts.compile(true)
	if err != nil {
		return nil, err
	}
	id := t.ID
	run := max(t.Runs, 1)
	if t.State == Starting {
		// The first run has not reported yet.
		run = max(t.Runs+1, 1)
	}

	var events chan fsnotify.Event
	var errs chan error
	if w, err := fsnotify.NewWatcher(); err == nil {
		defer w.Close()
		if w.Add(m.Store.TaskDir(id)) == nil {
			events, errs = w.Events, w.Errors
		}
	}
	tick := time.NewTicker(followPoll)
	defer tick.Stop()

	var hErr error
	f := newFilter(q, func(l logLine, gap bool) bool {
		hErr = h.Line(LogLine{Text: l.text, Raw: l.raw, Offset: l.off, Gap: gap})
		return hErr == nil
	})
	first := true
	var pos int64
	f.lost = func(skipped, dropped int64) bool {
		if h.Lost != nil && (skipped > 0 || first) {
			hErr = h.Lost(skipped, dropped)
		}
		return hErr == nil
	}
	for {
		cur, err := m.Store.load(id)
		if err != nil {
			return nil, wrap(err, "logs %s", id)
		}
		ended := cur.State == Lost || cur.exit != nil && cur.exit.Run >= run
		if !first {
			q.Tail, q.Since = 0, 0
			if !q.New {
				q.SinceOffset = &pos
			}
		}
		rr, err := m.read(id, q, ended, f)
		if hErr != nil {
			return nil, hErr
		}
		if err != nil {
			return nil, wrap(err, "logs %s", id)
		}
		first, pos = false, rr.end
		if ended {
			return &FollowResult{Task: cur, EndOffset: rr.end}, nil
		}
		if h.Idle != nil {
			if err := h.Idle(); err != nil {
				return nil, err
			}
		}
		if !waitChange(ctx, events, errs, tick.C) {
			return nil, ctx.Err()
		}
	}
}

// waitChange blocks until the task's directory changes, the poll ticks or
// ctx ends (false). Events that piled up are taken together.
func waitChange(ctx context.Context, events chan fsnotify.Event, errs chan error, tick <-chan time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-events:
	case <-errs:
	case <-tick:
	}
	for {
		select {
		case <-events:
		case <-errs:
		default:
			return true
		}
	}
}
