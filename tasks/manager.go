package tasks

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/bgmux/bgmux/tmuxctl"
)

// Manager is the one entry point the CLI and the MCP server use: it ties
// the Store (disk) to the tmux server the task windows live on.
type Manager struct {
	Store  *Store
	Tmux   *tmuxctl.Server
	Config Config
	// Exe is the bgmux binary run as each window's supervisor.
	Exe string
	// Cwd and Env are the caller's working directory and environment;
	// they are the defaults for a started task.
	Cwd string
	Env []string
}

// NewManager builds a Manager from a loaded config and the calling
// process's executable, working directory and environment.
func NewManager(cfg Config) (*Manager, error) {
	dir := cfg.StateDir
	if os.Getenv("BGMUX_STATE_DIR") != "" || dir == "" {
		d, err := DefaultStateDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	socket := cfg.Socket
	if s := os.Getenv("BGMUX_SOCKET"); s != "" {
		socket = s
	}
	if err := tmuxctl.CheckSocketName(socket); err != nil {
		return nil, Errorf(KindInvalid, "%v: set BGMUX_SOCKET (or socket: in the config) to a plain name", err)
	}
	srv := tmuxctl.New(socket)
	if cfg.HistoryLimit > 0 {
		srv.HistoryLimit = int(cfg.HistoryLimit)
	}
	if cfg.TmuxTimeout > 0 {
		srv.Timeout = time.Duration(cfg.TmuxTimeout)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, Errorf(KindInvalid, "the current directory is not readable: %v", err)
	}
	return &Manager{Store: OpenStore(dir), Tmux: srv, Config: cfg, Exe: exe, Cwd: cwd, Env: os.Environ()}, nil
}

// CurrentGroup is the group a command applies to by default.
func (m *Manager) CurrentGroup() string { return DefaultGroup(m.Cwd) }

// Get resolves a TASK reference and loads the task.
func (m *Manager) Get(ref string) (*Task, error) {
	id, err := m.Resolve(ref)
	if err != nil {
		if KindOf(err) == KindNotFound {
			// A task with an unreadable sidecar is no task, but say so.
			if why := m.Store.explainMissing(ref); why != nil {
				return nil, why
			}
		}
		return nil, err
	}
	t, err := m.Store.loadOrSetAside(id)
	if err != nil {
		var sa *SetAsideError
		if errors.As(err, &sa) {
			return nil, sa.asKind()
		}
		return nil, err
	}
	m.Store.addDetails(t)
	return t, nil
}

// tmuxErr classifies a tmux failure.
func tmuxErr(err error, what string) error {
	if errors.Is(err, tmuxctl.ErrNotInstalled) {
		return &Error{Kind: KindTmux, Msg: what + ": tmux is not installed; install it (apt-get install tmux, brew install tmux) and run bgmux doctor"}
	}
	if errors.Is(err, tmuxctl.ErrNoAnswer) {
		return &Error{Kind: KindTmux, Msg: what, Err: err}
	}
	if errors.Is(err, tmuxctl.ErrNoServer) {
		return &Error{Kind: KindTmux, Msg: what + ": the tmux server is not running (it was killed or the host rebooted); the task's output is still in bgmux logs", Err: err}
	}
	return &Error{Kind: KindFailed, Msg: what, Err: err}
}

// waitFor polls cond until it is true or the deadline passes: every
// millisecond for the first 100ms, then backing off to 25ms between
// checks.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	begin := time.Now()
	deadline := begin.Add(timeout)
	delay := time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return cond()
		case <-t.C:
		}
		// Poll often at first (what start and restart wait for comes
		// within milliseconds, and a check is a stat), then back off.
		if delay < 25*time.Millisecond && time.Since(begin) > 100*time.Millisecond {
			delay *= 2
		}
	}
}
