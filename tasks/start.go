package tasks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/proc"

	"github.com/bgmux/bgmux/tmuxctl"
)

// StartOptions is what a caller asks to start.
type StartOptions struct {
	Name  string
	Group string
	Cwd   string
	// Env entries are KEY=VALUE, or KEY alone for KEY's value in the
	// caller's environment (Manager.Env; an error when it is not set).
	// They win over EnvFiles.
	Env []string
	// EnvFiles are env files (KEY=VALUE lines, see envfile.go) read in
	// order when the task is started, absolute or relative to the
	// caller's directory (Manager.Cwd). Their values, like Env's, are
	// kept in the spec only.
	EnvFiles []string
	Tags     []string
	// Restart is the restart policy: never, on-failure or always.
	Restart string
	// MaxRestarts bounds automatic restarts; nil means no bound.
	MaxRestarts *int
	// MaxLogSize bounds each of the two log segments; 0 means the
	// configured max_log_size.
	MaxLogSize int64
	// Reuse returns the live task already holding Name in the group
	// instead of failing with a conflict, when it runs what was asked
	// (command, cwd, env keys, group; see reuseDiff): a task running
	// something else is still a conflict, one that names the difference.
	// Declared starts (bgmux up) keep a live declared task as it is.
	Reuse bool
	// Declared is the config file declaring the task (bgmux up), "" for
	// a task started by hand.
	Declared string
	// Autostart marks a declared task for restore to bring back.
	Autostart bool
	// Command holds the words after "--": one word is a shell command
	// string, several are an argv.
	Command []string
}

// supervisorReadyTimeout bounds how long start waits for the supervisor
// to report the child's pid.
const supervisorReadyTimeout = 10 * time.Second

// Start validates opts, records the task and opens its window, then waits
// until the supervisor reports the child running (or already finished).
// Invalid input creates nothing.
func (m *Manager) Start(ctx context.Context, opts StartOptions) (*Task, error) {
	// From here on the name resolves (in this process): a status asked
	// while the start is still on its way waits for the task's record.
	recorded := m.Store.beginStart(opts.Name)
	defer recorded()
	spec, err := m.buildSpec(opts)
	if err != nil {
		return nil, err
	}
	exe, err := m.Store.supervisorBinary(m.Exe)
	if err != nil {
		return nil, wrap(err, "start: prepare the supervisor binary")
	}
	existing, err := m.reserve(spec, opts.Name != "", opts.Reuse)
	recorded()
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if diff := reuseDiff(existing.spec, spec); diff != "" && opts.Declared == "" {
			return nil, Errorf(KindConflict, "a task named %s is already running in group %s (%s), but %s; --reuse gives back only a task that runs what was asked: stop it first, or choose another --name", spec.Name, spec.Group, existing.ID, diff)
		}
		existing.reused = true
		return existing, nil
	}
	id := spec.ID
	// The supervisor's disk reserve, made sure of before the command can
	// run (outside the store lock: it writes 64 KiB): a run that could not
	// be recorded must not start.
	if _, err := m.Store.prepareReserve(id); err != nil {
		m.Store.Remove(id)
		return nil, wrap(m.Store.unwritable(err), "start: disk reserve")
	}
	newSession, err := m.openWindow(ctx, spec, exe, "")
	if err != nil {
		// tmux may still make the window later (a server that did not
		// answer in time): the task is withdrawn so that its supervisor
		// then runs nothing and closes the window.
		m.abandonStart(ctx, id)
		return nil, err
	}
	runPath, exitPath := m.Store.Path(id, RunFile), m.Store.Path(id, ExitFile)
	var rec WindowRecord
	readJSON(m.Store.Path(id, WindowFile), &rec)
	waitFor(ctx, supervisorReadyTimeout, func() bool {
		return fileExists(runPath) || fileExists(exitPath) || !proc.Alive(rec.PanePID, rec.PaneStart)
	})
	var run Run
	if readJSON(runPath, &run) == nil && run.PID == 0 {
		// The command could not be executed: the supervisor records its
		// exit (127 or 126) right after the run, once its trailer is
		// written.
		waitFor(ctx, supervisorReadyTimeout, func() bool {
			return m.Store.hasExit(id, run.Run) || !proc.Alive(run.SupervisorPID, run.SupervisorStart)
		})
	}
	if newSession {
		// Tasks of the group that outlived their tmux server get their
		// windows back with the group's session.
		m.showWindowless(ctx, spec.Group)
	}
	t, err := m.Store.load(id)
	if err != nil {
		return nil, err
	}
	if t.run != nil && t.run.PID == 0 && t.exit != nil && t.exit.Error != "" {
		return t, &Error{Kind: KindFailed, Status: t.exit.StatusCode(),
			Msg: fmt.Sprintf("start %s: cannot run %s; the task (%s) is recorded as exited %d", t.Name, t.exit.Error, t.ID, t.exit.StatusCode())}
	}
	return t, nil
}

// openWindow creates the task's window, running the supervisor exe (with
// the launch token, if any), and records where it is. newSession says
// its session had to be made (the group had no session: its tmux
// server was killed, say).
func (m *Manager) openWindow(ctx context.Context, spec *Spec, exe, launch string) (newSession bool, err error) {
	id := spec.ID
	win, err := m.Tmux.NewWindow(ctx, tmuxctl.WindowSpec{
		Session:  spec.Group,
		Name:     spec.Name,
		TempName: id,
		Cwd:      spec.Cwd,
		Argv:     m.supervisorArgv(exe, id, launch),
		Options:  map[string]string{tmuxctl.TaskOption: id, tmuxctl.StateOption: "running"},
	})
	if err != nil {
		return false, tmuxErr(err, "start "+spec.Name+": create window")
	}
	rec := WindowRecord{
		Socket: m.Tmux.Socket, Session: spec.Group, SessionID: win.SessionID,
		Window: win.Window, Pane: win.Pane, PanePID: win.PanePID,
		PaneStart: proc.Start(win.PanePID), BootID: proc.BootID(),
	}
	if err := fileutil.WriteJSON(m.Store.Path(id, WindowFile), rec); err != nil {
		return false, wrap(err, "start %s: record window", spec.Name)
	}
	return win.NewSession, nil
}

// supervisorArgv is the window command that supervises task id.
func (m *Manager) supervisorArgv(exe, id, launch string) []string {
	if launch != "" {
		return []string{exe, SuperviseCommand, "--state-dir", m.Store.Dir, "--launch", launch, id}
	}
	return []string{exe, SuperviseCommand, "--state-dir", m.Store.Dir, id}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// buildSpec validates the options and fills in defaults; it touches
// nothing on disk.
func (m *Manager) buildSpec(opts StartOptions) (*Spec, error) {
	spec := &Spec{Env: map[string]string{}, Tags: []string{}, Socket: m.Tmux.Socket, CreatedAt: time.Now().UTC()}
	switch {
	case len(opts.Command) == 0 || len(opts.Command) == 1 && strings.TrimSpace(opts.Command[0]) == "":
		return nil, Errorf(KindInvalid, "no command given; put it after --, e.g. bgmux start -- npm run dev")
	case len(opts.Command) == 1:
		c := opts.Command[0]
		spec.Command = &c
	default:
		if opts.Command[0] == "" {
			return nil, Errorf(KindInvalid, "the program name (first word after --) is empty; put the program first, e.g. bgmux start -- ls -l")
		}
		spec.Argv = append([]string(nil), opts.Command...)
	}
	for _, w := range opts.Command {
		if strings.IndexByte(w, 0) >= 0 {
			return nil, Errorf(KindInvalid, "the command contains a NUL byte, which no program can receive")
		}
	}
	cwd := opts.Cwd
	if cwd == "" {
		cwd = m.Cwd
	} else if !filepath.IsAbs(cwd) {
		cwd = filepath.Join(m.Cwd, cwd)
	}
	st, err := os.Stat(cwd)
	if err != nil {
		return nil, Errorf(KindInvalid, "working directory %s does not exist; pass an existing directory to --cwd", cwd)
	}
	if !st.IsDir() {
		return nil, Errorf(KindInvalid, "working directory %s is not a directory; pass a directory to --cwd", cwd)
	}
	spec.Cwd = filepath.Clean(cwd)
	spec.Group = opts.Group
	if spec.Group == "" {
		spec.Group = DefaultGroup(spec.Cwd)
	} else if err := ValidateGroup(spec.Group); err != nil {
		return nil, err
	}
	spec.Name = opts.Name
	if spec.Name != "" {
		if err := ValidateName(spec.Name); err != nil {
			return nil, err
		}
	}
	if spec.Env, err = taskEnv(m.Cwd, opts.EnvFiles, opts.Env, m.Env); err != nil {
		return nil, err
	}
	for _, t := range opts.Tags {
		if err := checkWord("tag", t); err != nil {
			return nil, err
		}
		spec.Tags = append(spec.Tags, t)
	}
	switch opts.Restart {
	case "", "never":
		spec.Restart = "never"
	case "on-failure", "always":
		spec.Restart = opts.Restart
	default:
		return nil, Errorf(KindInvalid, "unknown restart policy %q; use never, on-failure or always", opts.Restart)
	}
	if opts.MaxRestarts != nil {
		if *opts.MaxRestarts < 0 {
			return nil, Errorf(KindInvalid, "--max-restarts must be 0 or more, not %d", *opts.MaxRestarts)
		}
		n := *opts.MaxRestarts
		spec.MaxRestarts = &n
	}
	spec.MaxLogSize = opts.MaxLogSize
	if spec.MaxLogSize == 0 {
		spec.MaxLogSize = int64(m.Config.MaxLogSize)
	}
	if spec.MaxLogSize < MinLogSize {
		return nil, Errorf(KindInvalid, "max log size %d is too small; use at least %d bytes (e.g. 1MiB)", spec.MaxLogSize, MinLogSize)
	}
	if spec.Command != nil {
		spec.Shell = m.Config.Shell
	}
	spec.BaseEnv = m.Env
	spec.Declared, spec.Autostart = opts.Declared, opts.Autostart
	return spec, nil
}

// reserve takes the store lock, settles the task's name within its group
// (an explicit name held by a live task is a conflict, or with reuse that
// task is returned; a derived name gets a numeric suffix), allocates the
// id and writes the spec and the empty log.
func (m *Manager) reserve(spec *Spec, explicit, reuse bool) (*Task, error) {
	unlock, err := m.Store.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	// The name index lists the few tasks that carry a name: the check
	// costs the same however many tasks the store holds.
	if err := m.Store.ensureNameIndex(); err != nil {
		return nil, wrap(err, "start: name index")
	}
	if explicit {
		if t := m.Store.liveNamed(spec.Group, spec.Name); t != nil {
			if reuse {
				return t, nil
			}
			return nil, Errorf(KindConflict, "a task named %s is already running in group %s (%s); stop it first, choose another --name, or pass --reuse to get it back", spec.Name, spec.Group, t.ID)
		}
	} else {
		base := DefaultName(spec.Command, spec.Argv)
		spec.Name = base
		for n := 2; m.Store.liveNamed(spec.Group, spec.Name) != nil; n++ {
			suffix := "-" + strconv.Itoa(n)
			b := base
			if len(b)+len(suffix) > MaxNameLen {
				b = b[:MaxNameLen-len(suffix)]
			}
			spec.Name = b + suffix
		}
	}
	id, err := m.Store.NewID()
	if err != nil {
		return nil, err
	}
	spec.ID = id
	if err := m.Store.indexName(spec.Group, spec.Name, id); err != nil {
		m.Store.Remove(id)
		return nil, wrap(m.Store.unwritable(err), "start: name index")
	}
	if err := fileutil.WriteJSON(m.Store.Path(id, SpecFile), spec); err != nil {
		m.Store.unindexName(spec.Group, spec.Name, id)
		m.Store.Remove(id)
		return nil, wrap(m.Store.unwritable(err), "start: write spec")
	}
	if err := m.Store.prepareOutput(id); err != nil {
		m.Store.unindexName(spec.Group, spec.Name, id)
		m.Store.Remove(id)
		return nil, wrap(m.Store.unwritable(err), "start: create log")
	}
	return nil, nil
}

// prepareOutput creates the empty log (mode 0600, not the tmux server's
// umask).
func (s *Store) prepareOutput(id string) error {
	f, err := os.OpenFile(s.Path(id, LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}
