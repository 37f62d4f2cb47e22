package tasks

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/proc"
)

// A task whose spec, run, window or exit sidecar cannot be parsed, or
// parses but is not a valid record (see validate.go), after a disk error,
// a hand edit or a foreign tool, is reported and set aside, never
// silently overwritten or guessed at:
//
//	corrupt/<id>/                the task's directory, moved whole out of
//	                             tasks/ (every file kept as it was, the log too)
//	corrupt/<id>/set-aside.json  which sidecar, what is wrong with it, when
//
// The command that meets it first (list, status, restore) moves it and
// says so once: list and restore as a warning on stderr (MCP: warnings),
// status TASK as its error (kind "corrupt", exit status 1). Later, list
// no longer shows the task, and status with its id, id prefix or name
// says where its files are. Nothing under corrupt/ is written again or
// removed by bgmux: a person inspects it and deletes it.
//
// A task whose run sidecar names a supervisor that is still alive is not
// moved (that would pull the directory from under the process writing
// it): it is reported and skipped each time until it ends, then set aside.
// Other sidecars that bgmux rewrites (history, logmeta) are set aside on
// their own, as <file>.corrupt-<UTC time>, before a new one is written.
const (
	// CorruptDir is the directory of the state dir that holds tasks set
	// aside.
	CorruptDir = "corrupt"
	// SetAsideNote is the file in a set-aside task's directory that says
	// why it was set aside.
	SetAsideNote = "set-aside.json"
)

// KindCorrupt is the error kind of a task that was set aside because one
// of its sidecars cannot be parsed.
const KindCorrupt Kind = "corrupt"

// setAsideRecord is the set-aside.json note.
type setAsideRecord struct {
	ID         string    `json:"id"`
	Name       string    `json:"name,omitempty"`
	Group      string    `json:"group,omitempty"`
	File       string    `json:"file"`
	Problem    string    `json:"problem"`
	SetAsideAt time.Time `json:"set_aside_at"`
}

// SetAsideError reports a task with a sidecar that cannot be parsed: set
// aside under Dir, or left in place (Dir empty) because it still runs
// (SupervisorPID) or could not be moved (MoveErr).
type SetAsideError struct {
	ID, Name string
	// File is the sidecar's name (spec, run, window, exit); Path its path
	// where it was found; Problem what is wrong with it.
	File, Path, Problem string
	// Dir is where the task's files are now, once set aside.
	Dir string
	// SupervisorPID and PGID are set when the task was left in place
	// because its supervisor still runs.
	SupervisorPID, PGID int
	// MoveErr says why the task could not be set aside.
	MoveErr error
}

func (e *SetAsideError) Error() string {
	who := "task " + e.ID
	if e.Name != "" {
		who += " (" + e.Name + ")"
	}
	switch {
	case e.Dir != "":
		return fmt.Sprintf("%s was set aside: its %s sidecar %s; its files are kept in %s (the damaged one is %s): inspect them, then delete that directory", who, e.File, e.Problem, e.Dir, filepath.Join(e.Dir, e.File))
	case e.SupervisorPID != 0:
		return fmt.Sprintf("%s: its %s sidecar %s %s; it still runs (supervisor pid %d), so it is left in place and will be set aside once it ends; to end it now: kill -TERM -- -%d", who, e.File, e.Path, e.Problem, e.SupervisorPID, e.PGID)
	}
	return fmt.Sprintf("%s is skipped: its %s sidecar %s %s and could not be set aside (%v); fix or remove that file", who, e.File, e.Path, e.Problem, e.MoveErr)
}

// asKind gives e the corrupt kind for exit statuses and JSON errors.
func (e *SetAsideError) asKind() error { return &Error{Kind: KindCorrupt, Err: e} }

// loadOrSetAside loads a task like load, setting it aside (see above)
// when one of its sidecars cannot be parsed; the error is then a
// *SetAsideError.
func (s *Store) loadOrSetAside(id string) (*Task, error) {
	t, err := s.load(id)
	var ce *CorruptError
	if err == nil || !errors.As(err, &ce) {
		return t, err
	}
	return nil, s.setAside(id, ce)
}

// setAside moves task id, whose sidecar ce could not be parsed, to the
// corrupt directory and leaves a note there.
func (s *Store) setAside(id string, ce *CorruptError) error {
	e := &SetAsideError{ID: id, File: filepath.Base(ce.Path), Path: ce.Path, Problem: ce.Problem()}
	var sp Spec
	if readJSON(s.Path(id, SpecFile), &sp) == nil {
		e.Name = sp.Name
	}
	var run Run
	if readJSON(s.Path(id, RunFile), &run) == nil && run.BootID == proc.BootID() && proc.Alive(run.SupervisorPID, run.SupervisorStart) {
		e.SupervisorPID, e.PGID = run.SupervisorPID, run.PGID
		return e
	}
	// Sidecars are replaced whole, so a file that changed since it was
	// read is being rewritten, not damaged: report it, move nothing.
	if now, err := fileutil.ReadSmallFile(ce.Path); err != nil || !bytes.Equal(now, ce.Data) {
		return ce
	}
	root := filepath.Join(s.Dir, CorruptDir)
	if err := os.MkdirAll(root, 0o700); err != nil {
		e.MoveErr = err
		return e
	}
	dst := filepath.Join(root, id)
	for n := 2; ; n++ {
		if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
			break
		}
		dst = filepath.Join(root, id+"."+strconv.Itoa(n))
	}
	if err := os.Rename(s.TaskDir(id), dst); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Another bgmux set it aside at the same moment.
			if other := s.findSetAside(id); other != nil {
				return other
			}
		}
		e.MoveErr = err
		return e
	}
	e.Dir = dst
	note := setAsideRecord{ID: id, Name: sp.Name, Group: sp.Group, File: e.File, Problem: e.Problem, SetAsideAt: time.Now().UTC()}
	fileutil.WriteJSON(filepath.Join(dst, SetAsideNote), note)
	return e
}

// findSetAside looks for a set-aside task that ref (an id, a name or an
// id prefix starting with bg-) names, newest first.
func (s *Store) findSetAside(ref string) *SetAsideError {
	root := filepath.Join(s.Dir, CorruptDir)
	ents, err := os.ReadDir(root)
	if err != nil || ref == "" {
		return nil
	}
	var found []*SetAsideError
	var when []time.Time
	for _, d := range ents {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(root, d.Name())
		// The task is its directory (corrupt/<id> or corrupt/<id>.N),
		// whatever the note says.
		id, _, _ := strings.Cut(d.Name(), ".")
		var note setAsideRecord
		if readJSON(filepath.Join(dir, SetAsideNote), &note) != nil {
			// Moved, but the note could not be written (a full disk).
			note = setAsideRecord{File: "unknown", Problem: "could not be parsed"}
		}
		note.ID = id
		if ref != note.ID && ref != note.Name && !(strings.HasPrefix(ref, IDPrefix) && strings.HasPrefix(note.ID, ref)) {
			continue
		}
		found = append(found, &SetAsideError{ID: note.ID, Name: note.Name, File: note.File, Problem: note.Problem, Dir: dir})
		when = append(when, note.SetAsideAt)
	}
	if len(found) == 0 {
		return nil
	}
	idx := make([]int, len(found))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return when[idx[a]].After(when[idx[b]]) })
	return found[idx[0]]
}

// explainMissing is asked when ref names no task: it returns the error
// for a task that ref would name but that has an unreadable sidecar (set
// aside now, or earlier), or nil.
func (s *Store) explainMissing(ref string) error {
	if ids, err := s.IDs(); err == nil {
		byID := strings.HasPrefix(ref, IDPrefix) // names never start so
		for _, id := range ids {
			if byID && !strings.HasPrefix(id, ref) {
				continue
			}
			var sp Spec
			if !byID && (readJSON(s.Path(id, SpecFile), &sp) != nil || sp.Name != ref) {
				continue
			}
			if _, err := s.loadOrSetAside(id); err != nil {
				var sa *SetAsideError
				if errors.As(err, &sa) {
					return sa.asKind()
				}
			}
		}
	}
	if sa := s.findSetAside(ref); sa != nil {
		return sa.asKind()
	}
	return nil
}

// ReadHistory reads a task's run history for appending to it. A history
// that cannot be parsed is set aside first (and reported on stderr, which
// is the pane for a supervisor); ok is false when it could not be, and
// then no new history may be written over it.
func ReadHistory(path string) (hist []Exit, ok bool) {
	err := readJSON(path, &hist)
	var ce *CorruptError
	if errors.As(err, &ce) {
		dst := fileutil.SetAside(path)
		if dst == "" {
			return nil, false
		}
		fmt.Fprintf(os.Stderr, "[bgmux] the run history %s; it was set aside as %s and a new one started\n", ce.Problem(), dst)
		return nil, true
	}
	return hist, true
}

// lastHistory is the newest entry of the run history at path, or nil when
// there is none or it cannot be read.
func lastHistory(path string) *Exit {
	var hist []Exit
	if readJSON(path, &hist) != nil || len(hist) == 0 {
		return nil
	}
	return &hist[len(hist)-1]
}
