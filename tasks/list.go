package tasks

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// loadAll loads every task in the store. A task with a sidecar that
// cannot be parsed is set aside (see corrupt.go), skipped, and reported
// in warnings: problems met while reading that did not stop it, which
// the CLI prints on stderr.
func (s *Store) loadAll() (all []*Task, warnings []string, err error) {
	ids, err := s.IDs()
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, nil, s.unreadable(err)
		}
		return nil, nil, err
	}
	return s.loadIDs(ids)
}

// unreadable explains a state directory this user cannot read.
func (s *Store) unreadable(err error) error {
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf("state directory %s is not readable by this user; fix its permissions or set BGMUX_STATE_DIR to your own state directory", s.Dir), Err: err}
}

// loadIDs loads the tasks with these ids, as loadAll does.
func (s *Store) loadIDs(ids []string) (all []*Task, warnings []string, err error) {
	loaded := make([]*Task, len(ids))
	errs := make([]error, len(ids))
	parallel(len(ids), func(i int) { loaded[i], errs[i] = s.load(ids[i]) })
	out := make([]*Task, 0, len(ids))
	for i, id := range ids {
		t, err := loaded[i], errs[i]
		if err != nil {
			var ce *CorruptError
			if errors.As(err, &ce) {
				warnings = append(warnings, s.setAside(id, ce).Error())
				continue
			}
			// A task without a spec is being created or removed: skip it.
			if KindOf(err) == KindNotFound || errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, warnings, err
		}
		out = append(out, t)
	}
	return out, warnings, nil
}

// ListOptions filters List.
type ListOptions struct {
	// Group limits the list to one group; "" with All false means the
	// current group.
	Group string
	All   bool
	Tag   string
	State string
}

// List returns tasks matching opts, oldest first, and warnings: problems
// met while reading the state directory that did not stop the list (a
// task set aside because a sidecar is damaged), which the CLI prints on
// stderr. It reads only the state directory: no tmux call.
func (m *Manager) List(opts ListOptions) (list []*Task, warnings []string, err error) {
	if opts.State != "" && !ValidState(opts.State) {
		return nil, nil, Errorf(KindInvalid, "unknown state %q; use starting, running, exited, killed or lost", opts.State)
	}
	if opts.Group != "" && !opts.All {
		if err := ValidateGroup(opts.Group); err != nil {
			return nil, nil, err
		}
	}
	group := opts.Group
	if group == "" {
		group = m.CurrentGroup()
	}
	// One group's tasks are read through the name index: listing a
	// project's tasks costs the same however many other groups there are.
	var all []*Task
	ids, err := m.Store.IDs()
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, nil, m.Store.unreadable(err)
		}
		return nil, nil, err
	}
	if gids, ok := m.Store.groupIDs(group, len(ids)); ok && !opts.All {
		ids = gids
	}
	if all, warnings, err = m.Store.loadIDs(ids); err != nil {
		return nil, warnings, err
	}
	out := make([]*Task, 0, len(all))
	for _, t := range all {
		if !opts.All && t.Group != group {
			continue
		}
		if opts.State != "" && string(t.State) != opts.State {
			continue
		}
		if opts.Tag != "" && !contains(t.Tags, opts.Tag) {
			continue
		}
		m.Store.addDetails(t)
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, warnings, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parallel runs f(0..n-1) on a few goroutines: loading a task is mostly
// waiting on system calls, so this scales with cores.
func parallel(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0) * 2
	if n < 32 || workers < 2 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
