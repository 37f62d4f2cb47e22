package tasks

import (
	"strings"

	"github.com/bgmux/bgmux/fileutil"

	"github.com/bgmux/bgmux/tmuxctl"
)

// Every sidecar is checked for shape when it is read (readJSON calls
// validateRecord): a file that parses as JSON but is not a record bgmux
// writes (no id, an id that is not its directory's, a run without a
// supervisor, a negative log offset...) is as damaged as one that does
// not parse, and takes the same path: the task is set aside (spec, run,
// window, exit), or the file is (history, logmeta). The checks are in
// memory only: they add no file read to status or list.
//
// What a record requires is what the code that uses it relies on: a
// value it acts on (an id to build paths from, a pid or process group to
// signal, a pane to respawn, an offset to read from) must be one bgmux
// could have written. Fields that are only shown stay optional, so a
// record written by an older bgmux still reads.

// validateRecord checks a decoded sidecar v, read from a file in the
// directory named dirID, when v is one of the records with a shape.
func validateRecord(v any, dirID string) error {
	switch r := v.(type) {
	case interface{ validate(dirID string) error }:
		return r.validate(dirID)
	case interface{ Validate(dirID string) error }:
		return r.Validate(dirID)
	case *[]Exit:
		return validateHistory(*r)
	}
	return nil
}

// validate checks a spec read from task directory dirID: its id is the
// directory's, its name and group are valid, it says what to run, when
// it was created, and its restart policy and limits are ones start
// accepts.
func (s *Spec) validate(dirID string) error {
	switch {
	case s.ID == "":
		return fileutil.Invalidf("it has no id; the task's directory is %s", dirID)
	case s.ID != dirID:
		return fileutil.Invalidf("its id %q is not the task's directory, %s", s.ID, dirID)
	}
	if err := ValidateName(s.Name); err != nil {
		return fileutil.Invalidf("its name is invalid: %v", errMessage(err))
	}
	if err := ValidateGroup(s.Group); err != nil {
		return fileutil.Invalidf("its group is invalid: %v", errMessage(err))
	}
	if err := tmuxctl.CheckSocketName(s.Socket); err != nil {
		return fileutil.Invalidf("its socket is invalid: %v", err)
	}
	switch {
	case s.Command != nil && len(s.Argv) > 0:
		return fileutil.Invalidf("it has both a command and an argv")
	case s.Command == nil && len(s.Argv) == 0:
		return fileutil.Invalidf("it has no command and no argv: nothing to run")
	case s.Command == nil && s.Argv[0] == "":
		return fileutil.Invalidf("its argv has an empty program name")
	case s.CreatedAt.IsZero():
		return fileutil.Invalidf("it has no created_at")
	case s.MaxRestarts != nil && *s.MaxRestarts < 0:
		return fileutil.Invalidf("its max_restarts is %d, below 0", *s.MaxRestarts)
	case s.MaxLogSize < 0:
		return fileutil.Invalidf("its max_log_size is %d, below 0", s.MaxLogSize)
	}
	switch s.Restart {
	case "", "never", "on-failure", "always":
	default:
		return fileutil.Invalidf("its restart policy %q is none of never, on-failure, always", s.Restart)
	}
	for _, tag := range s.Tags {
		if err := checkWord("tag", tag); err != nil {
			return fileutil.Invalidf("a tag is invalid: %v", errMessage(err))
		}
	}
	return nil
}

// validate checks a spec summary as a spec.
func (s *specSummary) validate(dirID string) error { return (*Spec)(s).validate(dirID) }

// validate checks a run record: a run number from 1, the supervisor's pid
// (which status checks for liveness and stop signals), the child's pid
// and process group (equal, or both 0 when the command could not start:
// stop signals the group, so no other value may reach kill) and a log
// offset of 0 or more (wait reads the run's output from it; a negative
// offset would count back from the log's end). Its start time is only
// shown, and stays optional.
func (r *Run) validate(string) error {
	switch {
	case r.Run < 1:
		return fileutil.Invalidf("its run number is %d, below 1", r.Run)
	case r.Restarts < 0:
		return fileutil.Invalidf("its restarts count is %d, below 0", r.Restarts)
	case r.SupervisorPID <= 0:
		return fileutil.Invalidf("it has no supervisor_pid")
	case r.PID < 0 || r.PGID != r.PID:
		return fileutil.Invalidf("its pid %d and pgid %d are not one process group (both are the child's pid, or 0 when it could not start)", r.PID, r.PGID)
	case r.LogOffset < 0:
		return fileutil.Invalidf("its log_offset is %d, below 0", r.LogOffset)
	}
	return nil
}

// validate checks an exit record: a run number (0 only for a task recorded
// lost before it ran), and how the run ended: an exit code from 0 to 255
// or a signal name, exactly one; neither for a lost run. ended_at stays
// optional: the record a supervisor writes when it is stopped while
// waiting to restart has none.
func (e *Exit) validate(string) error {
	switch {
	case e.Run < 0 || e.Run == 0 && !e.Lost:
		return fileutil.Invalidf("its run number is %d", e.Run)
	case e.Lost && (e.ExitCode != nil || e.Signal != nil):
		return fileutil.Invalidf("it records a lost run with an exit code or signal")
	case e.Lost:
		return nil
	case e.ExitCode == nil && e.Signal == nil:
		return fileutil.Invalidf("it has neither an exit_code nor a signal")
	case e.ExitCode != nil && e.Signal != nil:
		return fileutil.Invalidf("it has both an exit_code and a signal")
	case e.ExitCode != nil && (*e.ExitCode < 0 || *e.ExitCode > 255):
		return fileutil.Invalidf("its exit_code %d is not from 0 to 255", *e.ExitCode)
	case e.Signal != nil && *e.Signal == "":
		return fileutil.Invalidf("its signal is empty")
	}
	return nil
}

// validateHistory checks every entry of a run history as an exit record.
func validateHistory(hist []Exit) error {
	for i := range hist {
		if err := hist[i].validate(""); err != nil {
			return fileutil.Invalidf("entry %d: %v", i+1, err)
		}
	}
	return nil
}

// validate checks a window record: the tmux ids that screen, attach,
// restart (respawn-pane -k) and rm (kill-window) target. An empty or
// malformed target would make tmux pick the current pane or window.
func (w *WindowRecord) validate(string) error {
	switch {
	case !tmuxID(w.Pane, '%'):
		return fileutil.Invalidf("its pane %q is not a tmux pane id (%%N)", w.Pane)
	case !tmuxID(w.Window, '@'):
		return fileutil.Invalidf("its window %q is not a tmux window id (@N)", w.Window)
	case w.SessionID != "" && !tmuxID(w.SessionID, '$'):
		return fileutil.Invalidf("its session_id %q is not a tmux session id ($N)", w.SessionID)
	case w.PanePID < 0:
		return fileutil.Invalidf("its pane_pid is %d, below 0", w.PanePID)
	}
	if err := tmuxctl.CheckSocketName(w.Socket); err != nil {
		return fileutil.Invalidf("its socket is invalid: %v", err)
	}
	return nil
}

// tmuxID reports whether s is sigil followed by decimal digits, as tmux
// writes pane (%), window (@) and session ($) ids.
func tmuxID(s string, sigil byte) bool {
	if len(s) < 2 || s[0] != sigil {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// errMessage is err's text without a trailing period, for quoting.
func errMessage(err error) string { return strings.TrimSuffix(err.Error(), ".") }
