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
	// Left is how many tasks were not touched.
	Left int
	Err  error
}

func (e *RemoveError) Error() string {
	if len(e.Removed) == 0 && len(e.Killed) == 0 {
		return "nothing was removed: " + e.Err.Error()
	}
	msg := fmt.Sprintf("removed %d of %d tasks", len(e.Removed), len(e.Removed)+len(e.Killed)+e.Left)
	if len(e.Killed) > 0 {
		ids := make([]string, len(e.Killed))
		for i, t := range e.Killed {
			ids[i] = t.ID
		}
		msg += fmt.Sprintf("; %d more were killed but not removed (%s): they are finished now, run bgmux rm on them again", len(e.Killed), strings.Join(ids, " "))
	}
	if e.Left > 0 {
		msg += fmt.Sprintf("; the other %d are unchanged", e.Left)
	}
	return msg + ": " + e.Err.Error()
}

func (e *RemoveError) Unwrap() error { return e.Err }

// removeAll removes ts, chunk by chunk: the chunk's live tasks are killed
// when kill is set (a finished task whose process group lingers too),
// their windows closed, their state directories deleted. It returns the
// tasks removed; on a failure the error is a *RemoveError (of the kind
// of its cause) saying exactly what was done.
func (m *Manager) removeAll(ctx context.Context, ts []*Task, kill bool) ([]*Task, error) {
	var removed []*Task
	fail := func(err error, killed []*Task) ([]*Task, error) {
		re := &RemoveError{Removed: removed, Killed: killed, Left: len(ts) - len(removed) - len(killed), Err: stripKind(err)}
		return removed, &Error{Kind: KindOf(err), Msg: "remove", Err: re}
	}
	if kill && needsKill(ts) {
		// Nothing is killed unless the tmux server answers: the windows
		// of what is killed must close too.
		if _, err := m.Tmux.ListPanes(ctx); err != nil {
			return fail(tmuxErr(err, "list windows"), nil)
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
				return fail(err, killed)
			}
		}
		if err := m.Tmux.KillWindows(ctx, windows); err != nil {
			return fail(tmuxErr(err, "close windows"), killed)
		}
		for i, t := range chunk {
			if err := m.Store.Remove(t.ID); err != nil {
				return fail(wrap(err, "remove %s", t.ID), notIn(killed, chunk[:i]))
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

// notIn is the tasks of ts not in drop.
func notIn(ts, drop []*Task) []*Task {
	skip := map[*Task]bool{}
	for _, t := range drop {
		skip[t] = true
	}
	var out []*Task
	for _, t := range ts {
		if !skip[t] {
			out = append(out, t)
		}
	}
	return out
}

// PruneOptions selects what Prune removes.
type PruneOptions struct {
	// OlderThan keeps tasks that ended less than this long ago.
	OlderThan time.Duration
	// Group limits pruning to one group; All prunes every group.
	Group string
	All   bool
}

// Prune removes finished tasks (exited, killed, lost) that ended at least
// OlderThan ago, and returns them.
func (m *Manager) Prune(ctx context.Context, opts PruneOptions) ([]*Task, error) {
	ts, err := m.List(ListOptions{Group: opts.Group, All: opts.All})
	if err != nil {
		return nil, err
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
	return m.removeAll(ctx, victims, false)
}
