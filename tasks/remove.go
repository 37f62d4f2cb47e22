package tasks

import (
	"context"
	"time"
)

// Remove deletes finished tasks: their windows and their state
// directories. A task that is still live is refused unless force is set,
// in which case it is killed first. Every task is checked before anything
// is removed, so a refusal changes nothing.
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
	for _, t := range ts {
		if t.Live() || t.liveGroup() != 0 {
			if _, err := m.Stop(ctx, t, StopOptions{Signal: "KILL"}); err != nil {
				return err
			}
		}
	}
	return m.removeAll(ctx, ts)
}

// removeAll kills the windows of ts in one tmux call and deletes their
// state directories.
func (m *Manager) removeAll(ctx context.Context, ts []*Task) error {
	var windows []string
	for _, t := range ts {
		if t.window != nil && t.window.Socket == m.Tmux.Socket {
			windows = append(windows, t.window.Window)
		}
	}
	if err := m.Tmux.KillWindows(ctx, windows); err != nil {
		return tmuxErr(err, "remove: close windows")
	}
	for _, t := range ts {
		if err := m.Store.Remove(t.ID); err != nil {
			return wrap(err, "remove %s", t.ID)
		}
	}
	return nil
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
	if err := m.removeAll(ctx, victims); err != nil {
		return nil, err
	}
	return victims, nil
}
