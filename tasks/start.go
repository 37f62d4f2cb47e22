package tasks

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bgmux/bgmux/tmuxctl"
)

// StartOptions is what a caller asks to start.
type StartOptions struct {
	Name  string
	Group string
	Cwd   string
	// Env entries are KEY=VALUE.
	Env  []string
	Tags []string
	// Restart is the restart policy; only "never" is supported so far.
	Restart string
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
	spec, err := m.buildSpec(opts)
	if err != nil {
		return nil, err
	}
	exe, err := m.Store.supervisorBinary(m.Exe)
	if err != nil {
		return nil, wrap(err, "start: prepare the supervisor binary")
	}
	if err := m.reserve(spec, opts.Name != ""); err != nil {
		return nil, err
	}
	id := spec.ID
	win, err := m.Tmux.NewWindow(ctx, tmuxctl.WindowSpec{
		Session:  spec.Group,
		Name:     spec.Name,
		TempName: id,
		Cwd:      spec.Cwd,
		Argv:     []string{exe, SuperviseCommand, "--state-dir", m.Store.Dir, id},
		LogPath:  m.Store.Path(id, LogFile),
		Options:  map[string]string{tmuxctl.TaskOption: id},
	})
	if err != nil {
		m.Store.Remove(id)
		return nil, tmuxErr(err, "start "+spec.Name+": create window")
	}
	rec := WindowRecord{
		Socket: spec.Socket, Session: spec.Group, SessionID: win.SessionID,
		Window: win.Window, Pane: win.Pane, PanePID: win.PanePID,
		PaneStart: procStart(win.PanePID), BootID: BootID(),
	}
	if err := writeJSON(m.Store.Path(id, WindowFile), rec); err != nil {
		return nil, wrap(err, "start %s: record window", spec.Name)
	}
	runPath, exitPath := m.Store.Path(id, RunFile), m.Store.Path(id, ExitFile)
	waitFor(ctx, supervisorReadyTimeout, func() bool {
		return fileExists(runPath) || fileExists(exitPath) || !procAlive(rec.PanePID, rec.PaneStart)
	})
	return m.Store.load(id)
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
	for _, kv := range opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, Errorf(KindInvalid, "bad --env %q; use KEY=VALUE", kv)
		}
		if err := ValidateEnvKey(k); err != nil {
			return nil, err
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, Errorf(KindInvalid, "--env %s: the value contains a NUL byte", k)
		}
		spec.Env[k] = v
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
		return nil, Errorf(KindInvalid, "restart policy %q is not supported yet; use --restart never", opts.Restart)
	default:
		return nil, Errorf(KindInvalid, "unknown restart policy %q; use never, on-failure or always", opts.Restart)
	}
	spec.BaseEnv = m.Env
	return spec, nil
}

// reserve takes the store lock, settles the task's name within its group
// (an explicit name held by a live task is a conflict; a derived name gets
// a numeric suffix), allocates the id and writes the spec.
func (m *Manager) reserve(spec *Spec, explicit bool) error {
	unlock, err := m.Store.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	all, err := m.Store.loadAll()
	if err != nil {
		return err
	}
	live := map[string]string{}
	for _, t := range all {
		if t.Group == spec.Group && !t.State.Finished() {
			live[t.Name] = t.ID
		}
	}
	if explicit {
		if id, ok := live[spec.Name]; ok {
			return Errorf(KindConflict, "a task named %s is already running in group %s (%s); stop it first or choose another --name", spec.Name, spec.Group, id)
		}
	} else {
		base := DefaultName(spec.Command, spec.Argv)
		spec.Name = base
		for n := 2; live[spec.Name] != ""; n++ {
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
		return err
	}
	spec.ID = id
	if err := writeJSON(m.Store.Path(id, SpecFile), spec); err != nil {
		m.Store.Remove(id)
		return wrap(m.Store.unwritable(err), "start: write spec")
	}
	// Create the log here with mode 0600: pipe-pane's "cat >>" would
	// create it with the server's umask, readable by others.
	f, err := os.OpenFile(m.Store.Path(id, LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		m.Store.Remove(id)
		return wrap(m.Store.unwritable(err), "start: create log")
	}
	f.Close()
	return nil
}
