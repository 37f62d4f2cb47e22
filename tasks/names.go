package tasks

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The name index lets start settle a task's name without reading every
// task in the store, so start costs the same at 2,000 tasks as at none:
//
//	names/<group>/<name>/<id>   empty file, one per task ever created with
//	                            that name in that group
//
// It lists candidates, not answers: start loads the few tasks listed under
// a name and asks each whether it is live, so a restarted old holder of a
// name is seen as well as the newest one. Entries are added under the
// store lock before the spec is written and removed with the task, and an
// entry whose task is gone is dropped when met. A store written before the
// index existed gets it built once, from the specs, under the lock.
const namesDir = "names"

func (s *Store) nameDir(group, name string) string {
	return filepath.Join(s.Dir, namesDir, group, name)
}

// indexable reports whether group and name can be path elements of the
// index: the characters of a valid name, which both always have.
func indexable(group, name string) bool {
	return group != "" && name != "" && checkWord("name", group) == nil && checkWord("name", name) == nil
}

// ensureNameIndex builds the index from the specs when the store has none.
// The caller holds the store lock. The index is built in a temporary
// directory and renamed into place, so a crash leaves no half index.
func (s *Store) ensureNameIndex() error {
	final := filepath.Join(s.Dir, namesDir)
	if _, err := os.Stat(final); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := s.Init(); err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, ".names-"+strconv.Itoa(os.Getpid()))
	os.RemoveAll(tmp)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return s.unwritable(err)
	}
	ids, err := s.IDs()
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	for _, id := range ids {
		var sp Spec
		if readJSON(s.Path(id, SpecFile), &sp) != nil || !indexable(sp.Group, sp.Name) {
			continue
		}
		if err := addNameEntry(filepath.Join(tmp, sp.Group, sp.Name), id); err != nil {
			os.RemoveAll(tmp)
			return s.unwritable(err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return s.unwritable(err)
	}
	return nil
}

// indexName records that task id carries name in group. The caller holds
// the store lock.
func (s *Store) indexName(group, name, id string) error {
	if !indexable(group, name) {
		return nil
	}
	return addNameEntry(s.nameDir(group, name), id)
}

// addNameEntry creates dir/id. A concurrent rm may remove the emptied
// name directory between MkdirAll and the create (rm does not take the
// store lock), so a vanished directory is made again.
func addNameEntry(dir, id string) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		var f *os.File
		f, err = os.OpenFile(filepath.Join(dir, id), os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			return f.Close()
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

// unindexName drops task id's entry, and the name's directory once empty.
func (s *Store) unindexName(group, name, id string) {
	if !indexable(group, name) {
		return
	}
	dir := s.nameDir(group, name)
	os.Remove(filepath.Join(dir, id))
	if os.Remove(dir) == nil { // fails while other tasks carry the name
		os.Remove(filepath.Dir(dir))
	}
}

// liveNamed returns the live task called name in group, or nil. It reads
// only the tasks the index lists under that name. The caller holds the
// store lock.
func (s *Store) liveNamed(group, name string) *Task {
	ents, err := os.ReadDir(s.nameDir(group, name))
	if err != nil {
		return nil
	}
	for _, e := range ents {
		id := e.Name()
		t, err := s.load(id)
		if err != nil {
			if !s.Exists(id) {
				s.unindexName(group, name, id)
			}
			continue
		}
		if t.Group == group && t.Name == name && t.Live() {
			return t
		}
	}
	return nil
}

// groupIDs returns the ids of the tasks the name index lists in group,
// sorted, and false when the index cannot answer (the store has none,
// or it cannot be read) or when reading it would cost more than reading
// every task (the group holds most of the store's names: one directory
// read per name then adds to the load of nearly every task), so the
// caller reads every task instead. total is the number of tasks in the
// store.
func (s *Store) groupIDs(group string, total int) ([]string, bool) {
	if _, err := os.Stat(filepath.Join(s.Dir, namesDir)); err != nil {
		return nil, false
	}
	if checkWord("name", group) != nil {
		return nil, true // no task can be in it
	}
	dir := filepath.Join(s.Dir, namesDir, group)
	names, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true
	} else if err != nil {
		return nil, false
	}
	if len(names) > total/2 {
		return nil, false
	}
	var ids []string
	for _, n := range names {
		ents, err := os.ReadDir(filepath.Join(dir, n.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, false
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), IDPrefix) {
				ids = append(ids, e.Name())
			}
		}
	}
	sort.Strings(ids)
	return slices.Compact(ids), true
}
