package tasks

import (
	"time"

	"github.com/bgmux/bgmux/tasklog"
)

// Run is the run sidecar, written by the supervisor once the child starts.
type Run struct {
	Run int `json:"run"`
	// Restarts counts the automatic restarts (by the restart policy) that
	// led to this run since the supervisor started.
	Restarts int `json:"restarts"`
	// SupervisorPID and SupervisorStart identify the supervisor process;
	// the start time guards against pid reuse.
	SupervisorPID   int    `json:"supervisor_pid"`
	SupervisorStart uint64 `json:"supervisor_start"`
	// PID is the child's pid; PGID its process group (equal to PID).
	PID       int       `json:"pid"`
	PGID      int       `json:"pgid"`
	PIDStart  uint64    `json:"pid_start"`
	BootID    string    `json:"boot_id"`
	StartedAt time.Time `json:"started_at"`
	Pane      string    `json:"pane"`
	// Detached is the pid of the process that was the pane of the task's
	// window (the supervisor's own, or a viewer's) once that window went
	// away (its tmux server killed, the window closed) while the task ran
	// on: a window record naming that pane is stale. (Pane ids start again
	// on a new tmux server; the pid tells the windows apart.)
	Detached int `json:"detached,omitempty"`
	// LogOffset is the logical log offset (see logfile.go) at which this
	// run's output begins.
	LogOffset int64 `json:"log_offset"`
}

// Exit is the exit sidecar, written by the supervisor when the child ends.
type Exit struct {
	Run       int       `json:"run"`
	ExitCode  *int      `json:"exit_code"`
	Signal    *string   `json:"signal"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	// NextRestartAt is when the restart policy starts the next run; nil
	// when no restart is coming.
	NextRestartAt *time.Time `json:"next_restart_at,omitempty"`
	// Error says why the command could not be started, if it could not.
	Error string `json:"error,omitempty"`
	// Lost marks a record written by restore, not by the supervisor: the
	// run ended unobserved (host rebooted, tmux server or supervisor
	// gone). ExitCode and Signal stay nil; EndedAt is when the loss was
	// recorded. It keeps the task lost, with its output, across boots.
	Lost bool `json:"lost,omitempty"`
	// LostReason says how the loss was detected ("host rebooted").
	LostReason string `json:"lost_reason,omitempty"`
	// Hangup reports that the supervisor's terminal hung up during the
	// run (its tmux server or window went away), so the run ended because
	// of it, whether the child died of the signal or exited (a write to
	// the vanished terminal fails).
	Hangup bool `json:"hangup,omitempty"`
}

// WindowRecord is written by start: where the task's window lives.
type WindowRecord struct {
	Socket    string `json:"socket"`
	Session   string `json:"session"`
	SessionID string `json:"session_id"`
	Window    string `json:"window"`
	Pane      string `json:"pane"`
	// PanePID is the supervisor's pid as tmux reported it.
	PanePID   int    `json:"pane_pid"`
	PaneStart uint64 `json:"pane_start"`
	BootID    string `json:"boot_id"`
	// Viewer says the window shows a live task whose own window went
	// away (bgmux __view, see View); PanePID is the viewer's then.
	Viewer bool `json:"viewer,omitempty"`
}

// StatusCode is the shell-style status: the exit code, or 128+n for
// signal n.
func (e *Exit) StatusCode() int {
	if e.ExitCode != nil {
		return *e.ExitCode
	}
	if e.Signal != nil {
		if n, ok := SignalNumber(*e.Signal); ok {
			return 128 + n
		}
	}
	return 1
}

// LogLossFile is the sidecar in which the supervisor records output it
// could not write to the log (see tasklog.Loss).
const LogLossFile = tasklog.LossFile

// LogLoss is the logloss sidecar (see tasklog.Loss).
type LogLoss = tasklog.Loss
