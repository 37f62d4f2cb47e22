package tasks

import (
	"errors"
	"io/fs"
	"time"

	"github.com/bgmux/bgmux/proc"
	"github.com/bgmux/bgmux/tmuxctl"
)

// State is the derived state of a task.
type State string

// The states a task can be in; see DESIGN.md.
const (
	Starting State = "starting" // spec written, the supervisor has not reported yet
	Running  State = "running"  // the supervisor is alive
	Exited   State = "exited"   // the child exited; ExitCode holds its code
	Killed   State = "killed"   // the child died of a signal
	Lost     State = "lost"     // the supervisor is gone and left no exit record
)

// ValidState reports whether s names a state.
func ValidState(s string) bool {
	switch State(s) {
	case Starting, Running, Exited, Killed, Lost:
		return true
	}
	return false
}

// Finished reports whether the state is final for the current run.
func (s State) Finished() bool { return s == Exited || s == Killed || s == Lost }

// TmuxInfo is where a task's window is and how a human attaches to it.
type TmuxInfo struct {
	Socket  string `json:"socket"`
	Session string `json:"session"`
	Window  string `json:"window"`
	Pane    string `json:"pane"`
	Attach  string `json:"attach"`
}

// Task is the task object of the CLI's --json contract.
type Task struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Group    string   `json:"group"`
	State    State    `json:"state"`
	ExitCode *int     `json:"exit_code"`
	Signal   *string  `json:"signal"`
	PID      *int     `json:"pid"`
	Command  *string  `json:"command"`
	Argv     []string `json:"argv"`
	Cwd      string   `json:"cwd"`
	Tags     []string `json:"tags"`
	Restart  string   `json:"restart"`
	Runs     int      `json:"runs"`
	// Restarts counts automatic restarts by the restart policy since the
	// supervisor started; NextRestartAt is set while one is pending.
	Restarts      int        `json:"restarts"`
	NextRestartAt *time.Time `json:"next_restart_at"`
	// MaxRestarts is the bound on automatic restarts (--max-restarts),
	// nil when there is none.
	MaxRestarts *int `json:"max_restarts"`
	// GaveUp reports that the restart policy would have brought the
	// finished run back but the task reached MaxRestarts.
	GaveUp bool `json:"gave_up"`
	// LostReason says why a lost task is lost ("supervisor gone", "host
	// rebooted", ...), nil unless the state is lost.
	LostReason *string `json:"lost_reason"`
	// History lists how the earlier runs ended, oldest first; [] when
	// there were none.
	History   []PastRun  `json:"history"`
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
	LogPath   string     `json:"log_path"`
	Tmux      TmuxInfo   `json:"tmux"`
	// Error says why the command could not start, nil when it started.
	Error *string `json:"error"`
	// LogLoss, when set, says that output is missing from the log because
	// writing it failed (a full disk); nil when the log is complete.
	LogLoss *LogLoss `json:"log_loss"`

	spec   *Spec
	run    *Run
	exit   *Exit
	window *WindowRecord
	// reused says Start gave back this live task (--reuse) instead of
	// starting one.
	reused bool
	// exitFromHistory says exit came from the run history: the
	// supervisor died before writing the exit record (restore writes it).
	exitFromHistory bool
}

// PastRun is how an earlier run of a task ended: an entry of the task
// object's history.
type PastRun struct {
	Run       int       `json:"run"`
	ExitCode  *int      `json:"exit_code"`
	Signal    *string   `json:"signal"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	// Error says why the run's command could not start, nil when it did.
	Error *string `json:"error"`
	// LostReason says why the run was lost, nil unless it was.
	LostReason *string `json:"lost_reason"`
}

// StatusCode is the run's shell-style status, as Exit.StatusCode.
func (p PastRun) StatusCode() int {
	ex := Exit{ExitCode: p.ExitCode, Signal: p.Signal}
	return ex.StatusCode()
}

// pastRun is the history entry of the exit record ex.
func pastRun(ex Exit) PastRun {
	p := PastRun{Run: ex.Run, ExitCode: ex.ExitCode, Signal: ex.Signal, StartedAt: ex.StartedAt, EndedAt: ex.EndedAt}
	if ex.Error != "" {
		e := ex.Error
		p.Error = &e
	}
	if ex.Lost {
		r := ex.LostReason
		if r == "" {
			r = "lost"
		}
		p.LostReason = &r
	}
	return p
}

// Spec returns the task's spec as loaded from disk, without BaseEnv.
func (t *Task) Spec() *Spec { return t.spec }

// Reused reports whether Start gave back an already live task (Reuse)
// instead of starting a new one.
func (t *Task) Reused() bool { return t.reused }

// StartReport is the answer of start (bgmux start --json, start_task
// without wait_for): the task object and whether --reuse gave back a
// live task instead of starting one.
type StartReport struct {
	*Task
	Reused bool `json:"reused"`
}

// Report is t as start reports it.
func (t *Task) Report() *StartReport { return &StartReport{Task: t, Reused: t.reused} }

// ExitStatus is the shell-style status of the current run once it is
// over, as wait reports it: the exit code, 128+n for signal n, 1 for a
// lost task; 0 while the run goes on.
func (t *Task) ExitStatus() int {
	switch {
	case t.State == Lost:
		return 1
	case t.exit != nil:
		return t.exit.StatusCode()
	}
	return 0
}

// Exit returns the exit record of the current run, nil while it runs.
func (t *Task) Exit() *Exit { return t.exit }

// startingGrace is how long a task may stay without a window record before
// the start that created it is taken to have died.
const startingGrace = 30 * time.Second

// load reads a task's sidecars and derives its state. Only sidecars and a
// liveness check of local processes are used: no tmux call.
func (s *Store) load(id string) (*Task, error) {
	var spec Spec
	// Without base_env: a loaded task never runs its command.
	if err := readJSON(s.Path(id, SpecFile), (*specSummary)(&spec)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Errorf(KindNotFound, "task %s has no spec (it is being created or removed)", id)
		}
		return nil, err
	}
	// The task is the directory: its id is never taken from a file (the
	// spec's id is checked to be the same when it is read).
	t := &Task{ID: id, spec: &spec}
	var run Run
	if err := readJSON(s.Path(id, RunFile), &run); err == nil {
		t.run = &run
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var win WindowRecord
	if err := readJSON(s.Path(id, WindowFile), &win); err == nil {
		t.window = &win
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var ex Exit
	if err := readJSON(s.Path(id, ExitFile), &ex); err == nil {
		if t.run == nil || ex.Run >= t.run.Run {
			t.exit = &ex
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	t.fill(s)
	if t.State == Lost && t.run != nil {
		// The supervisor may have written its exit record and ended
		// between our read of exit and the liveness check: look again.
		if readJSON(s.Path(id, ExitFile), &ex) == nil && ex.Run >= t.run.Run {
			t.exit = &ex
			t.fill(s)
		} else if h := lastHistory(s.Path(id, HistoryFile)); h != nil && h.Run == t.run.Run {
			// It recorded the run in its history and died before the
			// exit record (written last): what it saw stands.
			t.exit, t.exitFromHistory = h, true
			t.fill(s)
		}
	}
	return t, nil
}

// fill derives the public fields from the sidecars; t.ID is already the
// task's directory.
func (t *Task) fill(s *Store) {
	sp := t.spec
	t.Name, t.Group = sp.Name, sp.Group
	t.Command, t.Argv, t.Cwd = sp.Command, sp.Argv, sp.Cwd
	t.Tags, t.Restart, t.CreatedAt = sp.Tags, sp.Restart, sp.CreatedAt
	if t.Tags == nil {
		t.Tags = []string{}
	}
	t.History = []PastRun{}
	t.LogPath = s.Path(t.ID, LogFile)
	t.State = t.derive()
	if t.run != nil {
		t.Runs = t.run.Run
		st := t.run.StartedAt
		t.StartedAt = &st
		if t.run.PID > 0 {
			pid := t.run.PID
			t.PID = &pid
		}
	}
	if t.run != nil {
		t.Restarts = t.run.Restarts
	}
	if t.exit != nil && t.exit.NextRestartAt != nil && t.supervisorAlive() {
		next := *t.exit.NextRestartAt
		t.NextRestartAt = &next
	}
	if t.exit != nil {
		t.ExitCode, t.Signal = t.exit.ExitCode, t.exit.Signal
		e := t.exit.EndedAt
		t.EndedAt = &e
		if t.exit.Error != "" {
			msg := t.exit.Error
			t.Error = &msg
		}
		if t.Runs == 0 {
			t.Runs = t.exit.Run
		}
	}
	if sp.MaxRestarts != nil {
		n := *sp.MaxRestarts
		t.MaxRestarts = &n
	}
	t.GaveUp = t.gaveUp(s)
	if t.State == Lost {
		why := t.lostReason()
		t.LostReason = &why
	}
	t.fillTmux()
}

// fillTmux derives the task object's tmux fields from the spec and the
// window record.
func (t *Task) fillTmux() {
	sp := t.spec
	t.Tmux = TmuxInfo{Socket: sp.Socket, Session: sp.Group}
	if t.window != nil {
		t.Tmux.Window, t.Tmux.Pane, t.Tmux.Session = t.window.Window, t.window.Pane, t.window.Session
	}
	if t.windowGone() || t.window == nil {
		// Its window went away while it ran on (the ids would name
		// nothing, or another window on a new tmux server), or it has
		// none yet (a start under way: a name could find an older
		// window of that name): bgmux attach finds the right one.
		t.Tmux.Window, t.Tmux.Pane = "", ""
		t.Tmux.Attach = "bgmux attach " + t.ID
		return
	}
	t.Tmux.Attach = attachCommand(sp.Socket, t.Tmux.Session, sp.Name, t.Tmux.Window)
}

// windowGone reports whether the task's supervisor saw the task's
// window go away (Run.Detached) and no other window was given to it
// since.
func (t *Task) windowGone() bool {
	return t.run != nil && t.run.Detached != 0 && t.window != nil && t.window.PanePID == t.run.Detached
}

// gaveUp reports whether the restart policy stopped at max_restarts: the
// run is over, its supervisor restarts nothing more, the policy would
// have restarted this exit, and no stop ended the policy.
func (t *Task) gaveUp(s *Store) bool {
	sp := t.spec
	if sp.MaxRestarts == nil || t.exit == nil || t.exit.Lost || t.exit.NextRestartAt != nil || t.run == nil || t.run.Restarts < *sp.MaxRestarts {
		return false
	}
	failed := t.exit.Signal != nil || t.exit.ExitCode == nil || *t.exit.ExitCode != 0
	if sp.Restart != "always" && (sp.Restart != "on-failure" || !failed) {
		return false
	}
	return !fileExists(s.Path(t.ID, StopFile))
}

// lostReason says why a lost task is lost: restore's record of it, or
// what the records show (the same words restore would write when the
// tmux server and the window are still there).
func (t *Task) lostReason() string {
	if t.exit != nil && t.exit.Lost && t.exit.LostReason != "" {
		return t.exit.LostReason
	}
	boot := proc.BootID()
	switch {
	case t.run != nil && t.run.BootID != boot, t.run == nil && t.window != nil && t.window.BootID != boot:
		return "host rebooted"
	case t.run == nil && t.window == nil:
		return "start never opened a window"
	case t.run == nil:
		return "supervisor never started"
	}
	return "supervisor gone"
}

func (t *Task) derive() State {
	if t.exit != nil {
		if t.exit.Lost {
			return Lost
		}
		if t.exit.Signal != nil {
			return Killed
		}
		return Exited
	}
	boot := proc.BootID()
	if t.run != nil {
		if t.run.BootID == boot && proc.Alive(t.run.SupervisorPID, t.run.SupervisorStart) {
			return Running
		}
		return Lost
	}
	if t.window != nil {
		if t.window.BootID == boot && proc.Alive(t.window.PanePID, t.window.PaneStart) {
			return Starting
		}
		return Lost
	}
	if time.Since(t.spec.CreatedAt) < startingGrace {
		return Starting
	}
	return Lost
}

// attachCommand is the command a human types to watch the task: its
// window by id (a name may be held by an older, finished task's window
// too, and tmux would pick that one), or session:name when start has not
// recorded the window yet.
func attachCommand(socket, session, name, window string) string {
	prefix := "tmux"
	if socket != "" && socket != "default" {
		prefix = "tmux -L " + tmuxctl.ShellQuote(socket)
	}
	target := session + ":" + name
	if window != "" {
		target = window
	}
	return prefix + " attach -t " + tmuxctl.ShellQuote(target)
}

// supervisorAlive reports whether the current run's supervisor process is
// still there (running the child, or waiting to restart it).
func (t *Task) supervisorAlive() bool {
	return t.run != nil && t.run.BootID == proc.BootID() && proc.Alive(t.run.SupervisorPID, t.run.SupervisorStart)
}

// Live reports whether the task is running or about to run again: not
// finished, or finished with a restart scheduled by a live supervisor.
func (t *Task) Live() bool {
	if !t.State.Finished() {
		return true
	}
	return t.exit != nil && t.exit.NextRestartAt != nil && t.supervisorAlive()
}
