package tasks

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Remove deletes finished tasks: their windows and their state
// directories. A task that is still live is refused unless force is set,
// in which case it is killed first. Every task is checked before anything
// is removed, so a refusal changes nothing; a failure midway (tmux stops
// answering) is a *RemoveError saying what was removed, what was killed
// and what is unchanged.
func (m *Manager) Remove(ctx context.Context, ts []*Task, force bool) error {
	for _, t := range ts {
		if t.Live() && !force {
			what := string(t.State)
			if t.State.Finished() {
				what += " and waiting to restart"
			}
			return Errorf(KindConflict, "task %s (%s) is %s; stop it first or pass --force", t.Name, t.ID, what)
		}
	}
	_, err := m.removeAll(ctx, ts, true)
	return err
}

// removeChunk is how many tasks removeAll finishes (killed, windows
// closed, directories deleted) before it goes on to the next ones, so a
// failure midway leaves every task removed, unchanged, or (at most one
// chunk of them) killed and still listed, and its error says which.
const removeChunk = 250

// stopWorkers bounds how many tasks removeAll kills at once.
const stopWorkers = 16

// RemoveError is a removal that failed midway: what was done before the
// failure, and why it stopped.
type RemoveError struct {
	// Removed are the tasks whose windows and state are gone.
	Removed []*Task
	// Killed are tasks that were killed on the way but are still there
	// (finished now).
	Killed []*Task
	// Windowless are other tasks still there whose windows were being
	// closed when the removal stopped (they may be gone).
	Windowless []*Task
	// Left is how many tasks were not touched.
	Left int
	Err  error
}

func (e *RemoveError) Error() string {
	if len(e.Removed) == 0 && len(e.Killed) == 0 && len(e.Windowless) == 0 {
		return "nothing was removed: " + e.Err.Error()
	}
	ids := func(ts []*Task) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = t.ID
		}
		return strings.Join(s, " ")
	}
	msg := fmt.Sprintf("removed %d of %d tasks", len(e.Removed), len(e.Removed)+len(e.Killed)+len(e.Windowless)+e.Left)
	if len(e.Killed) > 0 {
		msg += fmt.Sprintf("; %d more were killed but not removed (%s): they are finished now", len(e.Killed), ids(e.Killed))
	}
	if len(e.Windowless) > 0 {
		msg += fmt.Sprintf("; %d more were not removed but may have lost their windows (%s)", len(e.Windowless), ids(e.Windowless))
	}
	if e.Left > 0 {
		msg += fmt.Sprintf("; the other %d are unchanged", e.Left)
	}
	return msg + "; run bgmux rm again for what is left: " + e.Err.Error()
}

func (e *RemoveError) Unwrap() error { return e.Err }

// removeAll removes ts, chunk by chunk: the chunk's live tasks are killed
// when kill is set (a finished task whose process group lingers too),
// their windows closed, their state directories deleted. It returns the
// tasks removed; on a failure the error is a *RemoveError (of the kind
// of its cause) saying exactly what was done.
func (m *Manager) removeAll(ctx context.Context, ts []*Task, kill bool) ([]*Task, error) {
	var removed []*Task
	// fail reports what was done: the tasks of chunk not removed that
	// were killed, and those whose windows were being closed.
	fail := func(err error, chunk, killed []*Task, closing bool) ([]*Task, error) {
		re := &RemoveError{Removed: removed, Err: stripKind(err)}
		isKilled := map[*Task]bool{}
		for _, t := range killed {
			isKilled[t] = true
		}
		gone := map[*Task]bool{}
		for _, t := range removed {
			gone[t] = true
		}
		for _, t := range chunk {
			switch {
			case gone[t]:
			case isKilled[t]:
				re.Killed = append(re.Killed, t)
			case closing:
				re.Windowless = append(re.Windowless, t)
			}
		}
		re.Left = len(ts) - len(removed) - len(re.Killed) - len(re.Windowless)
		return removed, &Error{Kind: KindOf(err), Msg: "remove", Err: re}
	}
	if kill && needsKill(ts) {
		// Nothing is killed unless the tmux server answers: the windows
		// of what is killed must close too.
		if _, err := m.Tmux.ListPanes(ctx); err != nil {
			return fail(tmuxErr(err, "list windows"), nil, nil, false)
		}
	}
	for start := 0; start < len(ts); start += removeChunk {
		chunk := ts[start:min(start+removeChunk, len(ts))]
		var windows []string
		for _, t := range chunk {
			if t.window != nil && t.window.Socket == m.Tmux.Socket {
				windows = append(windows, t.window.Window)
			}
		}
		var killed []*Task
		if kill {
			var err error
			if killed, err = m.killAll(ctx, chunk); err != nil {
				return fail(err, chunk, killed, false)
			}
		}
		if err := m.Tmux.KillWindows(ctx, windows); err != nil {
			return fail(tmuxErr(err, "close windows"), chunk, killed, true)
		}
		for _, t := range chunk {
			if err := m.Store.Remove(t.ID); err != nil {
				return fail(wrap(err, "remove %s", t.ID), chunk, killed, true)
			}
			removed = append(removed, t)
		}
	}
	return removed, nil
}

// needsKill reports whether any of ts is live or has a live process group.
func needsKill(ts []*Task) bool {
	for _, t := range ts {
		if t.Live() || t.liveGroup() != 0 {
			return true
		}
	}
	return false
}

// killAll kills (SIGKILL, as bgmux kill does) the tasks of ts that are
// live or have a live process group, a few at a time, and returns them.
func (m *Manager) killAll(ctx context.Context, ts []*Task) ([]*Task, error) {
	var live []*Task
	for _, t := range ts {
		if t.Live() || t.liveGroup() != 0 {
			live = append(live, t)
		}
	}
	var (
		mu     sync.Mutex
		killed []*Task
		first  error
		wg     sync.WaitGroup
	)
	work := make(chan *Task)
	for w := 0; w < min(stopWorkers, len(live)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				_, err := m.Stop(ctx, t, StopOptions{Signal: "KILL"})
				mu.Lock()
				if err != nil && first == nil {
					first = err
				} else if err == nil {
					killed = append(killed, t)
				}
				mu.Unlock()
			}
		}()
	}
	for _, t := range live {
		work <- t
	}
	close(work)
	wg.Wait()
	return killed, first
}

// PruneOptions selects what Prune removes.
type PruneOptions struct {
	// OlderThan keeps tasks that ended less than this long ago.
	OlderThan time.Duration
	// Group limits pruning to one group; All prunes every group.
	Group string
	All   bool
	// DryRun removes nothing: Prune returns the tasks it would remove.
	DryRun bool
}

// Prune removes finished tasks (exited, killed, lost) that ended at least
// OlderThan ago, and returns them (with DryRun: returns them only), with
// the warnings of the List it chose them from.
func (m *Manager) Prune(ctx context.Context, opts PruneOptions) (removed []*Task, warnings []string, err error) {
	ts, warnings, err := m.List(ListOptions{Group: opts.Group, All: opts.All})
	if err != nil {
		return nil, warnings, err
	}
	now := time.Now()
	var victims []*Task
	for _, t := range ts {
		if t.Live() || t.liveGroup() != 0 {
			continue
		}
		ended := t.CreatedAt
		if t.EndedAt != nil {
			ended = *t.EndedAt
		} else if t.StartedAt != nil {
			ended = *t.StartedAt
		}
		if now.Sub(ended) < opts.OlderThan {
			continue
		}
		victims = append(victims, t)
	}
	if opts.DryRun {
		return victims, warnings, nil
	}
	removed, err = m.removeAll(ctx, victims, false)
	return removed, warnings, err
}
