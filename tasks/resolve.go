package tasks

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Resolve turns a TASK reference into a task id. It tries, in order: an
// exact id; a task name in the current group (a live task before finished
// ones, then the newest); a task name in any group when only one group
// has it; a unique id prefix (starting with "bg-"). Several matches are
// an error that lists them. A name that matches nothing while this
// process is starting a task of that name waits for that start to record
// its task (a status asked in parallel with its start finds it starting).
func (m *Manager) Resolve(ref string) (string, error) {
	if ref == "" {
		return "", Errorf(KindInvalid, "no task given; pass a task id, name or id prefix (see bgmux list)")
	}
	if m.Store.Exists(ref) {
		return ref, nil
	}
	group := m.CurrentGroup()
	named, err := m.Store.tasksNamed(ref)
	if err != nil {
		return "", err
	}
	var inGroup []*Task
	for _, t := range named {
		if t.Group == group {
			inGroup = append(inGroup, t)
		}
	}
	if len(inGroup) > 0 {
		return pickByName(inGroup).ID, nil
	}
	if len(named) > 0 {
		groups := map[string]bool{}
		for _, t := range named {
			groups[t.Group] = true
		}
		if len(groups) == 1 {
			return pickByName(named).ID, nil
		}
		return "", ambiguous(ref, "is a task name in several groups", named)
	}
	var prefixed []*Task
	ids, err := m.Store.IDs()
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		// Only a prefix that starts like an id counts: a bare "a3" must
		// never pick some bg-a3... task when the task named a3 is gone.
		if strings.HasPrefix(ref, IDPrefix) && strings.HasPrefix(id, ref) {
			if t, err := m.Store.load(id); err == nil {
				prefixed = append(prefixed, t)
			}
		}
	}
	switch len(prefixed) {
	case 0:
		if m.Store.awaitStarts(ref) {
			// A start of that name is under way in this process: it has
			// recorded its task now (or failed).
			return m.Resolve(ref)
		}
		return "", Errorf(KindNotFound, "no task %q: it is not an id, a name or an id prefix of any task; see bgmux list --all", ref)
	case 1:
		return prefixed[0].ID, nil
	}
	return "", ambiguous(ref, "is a prefix of several task ids", prefixed)
}

// tasksNamed loads every task called name, in any group. With the name
// index it reads only those tasks; a store without one (written by an
// older bgmux and not started in since) is scanned spec by spec.
func (s *Store) tasksNamed(name string) ([]*Task, error) {
	var ids []string
	if _, err := os.Stat(filepath.Join(s.Dir, namesDir)); err == nil {
		if checkWord("name", name) != nil {
			return nil, nil // no task can carry it
		}
		groups, err := os.ReadDir(filepath.Join(s.Dir, namesDir))
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			ents, _ := os.ReadDir(s.nameDir(g.Name(), name))
			for _, e := range ents {
				ids = append(ids, e.Name())
			}
		}
	} else {
		all, err := s.IDs()
		if err != nil {
			return nil, err
		}
		// Names live in the spec alone: read only specs, then load the
		// few tasks that carry the name.
		specs := make([]*Spec, len(all))
		parallel(len(all), func(i int) {
			var sp Spec
			if readJSON(s.Path(all[i], SpecFile), &sp) == nil {
				specs[i] = &sp
			}
		})
		for i, sp := range specs {
			if sp != nil && sp.Name == name {
				ids = append(ids, all[i])
			}
		}
	}
	var named []*Task
	for _, id := range ids {
		if t, err := s.load(id); err == nil && t.Name == name {
			named = append(named, t)
		}
	}
	return named, nil
}

// pickByName chooses among same-named tasks: a live one first, then the
// most recently created.
func pickByName(ts []*Task) *Task {
	sort.SliceStable(ts, func(i, j int) bool {
		li, lj := ts[i].Live(), ts[j].Live()
		if li != lj {
			return li
		}
		return ts[i].CreatedAt.After(ts[j].CreatedAt)
	})
	return ts[0]
}

func ambiguous(ref, why string, ts []*Task) error {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString("\n  " + t.ID + "  " + t.Group + "/" + t.Name + "  " + string(t.State))
	}
	return Errorf(KindAmbiguous, "%q %s; use one of these ids:%s", ref, why, b.String())
}
