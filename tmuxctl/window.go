package tmuxctl

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// WindowSpec describes a window to create: one pane running Argv, exec'd
// directly by tmux (no shell).
type WindowSpec struct {
	// Session is the session (group) name; it is created when missing.
	Session string
	// Name is the window name shown in tmux's status line.
	Name string
	// TempName is a name unique on the server, used to target the window
	// within the creating command list before it is renamed to Name.
	TempName string
	// Cwd is the pane's start directory.
	Cwd string
	// Argv is the pane's command, exec'd without a shell.
	Argv []string
	// Options are window user options (names starting with @) to set.
	Options map[string]string
}

// Window identifies a window and its single pane by tmux ids.
type Window struct {
	SessionID string `json:"session_id"`
	Session   string `json:"session"`
	Window    string `json:"window"`
	Pane      string `json:"pane"`
	PanePID   int    `json:"pane_pid"`
	// NewSession says the window's session (or server) had to be made.
	NewSession bool `json:"-"`
}

const idFormat = "#{session_id}\t#{window_id}\t#{pane_id}\t#{pane_pid}"

// NewWindow creates the window in one tmux invocation: the pane, its
// remain-on-exit options and user options are set in the same command
// list, so a fast exit still leaves the window. A missing session (or
// server) costs one more invocation.
func (s *Server) NewWindow(ctx context.Context, spec WindowSpec) (Window, error) {
	if len(spec.Argv) == 0 {
		return Window{}, errors.New("tmuxctl: empty command")
	}
	if spec.TempName == "" {
		return Window{}, errors.New("tmuxctl: TempName is required")
	}
	for attempt := 0; attempt < 3; attempt++ {
		w, err := s.newWindowIn(ctx, spec)
		if err == nil || !sessionMissing(err) {
			return w, err
		}
		w, err = s.newSessionWith(ctx, spec)
		w.NewSession = err == nil
		if err == nil || !strings.Contains(stderrOf(err), "duplicate session") && !errors.Is(err, ErrNoServer) {
			return w, err
		}
		// Another bgmux created the session between our two calls, or we
		// reached a server while it was exiting (its last session just
		// closed): retry.
	}
	return Window{}, fmt.Errorf("tmuxctl: session %q keeps appearing and vanishing", spec.Session)
}

func sessionMissing(err error) bool {
	e := stderrOf(err)
	return errors.Is(err, ErrNoServer) || strings.Contains(e, "can't find session") || strings.Contains(e, "no current target")
}

func stderrOf(err error) string {
	var te *Error
	if errors.As(err, &te) {
		return te.Stderr
	}
	return ""
}

// serverSetup are the global options of bgmux's private server, set in the
// same invocation that may start it (start), or that creates a window on a
// running server. Only new-session starts a server: a server started for
// a new-window that then fails (no such session) is left with no session
// and exits, racing the next invocation, which may reach it while it dies.
func (s *Server) serverSetup(start bool) [][]string {
	if !s.Private() {
		return nil
	}
	var cmds [][]string
	if start {
		cmds = append(cmds, []string{"start-server"})
	}
	return append(cmds,
		[]string{"set-option", "-g", "history-limit", strconv.Itoa(s.HistoryLimit)},
		[]string{"set-option", "-g", "remain-on-exit", "on"},
		[]string{"set-option", "-g", "remain-on-exit-format", ""},
		[]string{"set-option", "-g", "automatic-rename", "off"},
		[]string{"set-option", "-g", "allow-rename", "off"},
	)
}

func (s *Server) newWindowIn(ctx context.Context, spec WindowSpec) (Window, error) {
	cmds := s.serverSetup(false)
	if !s.Private() {
		cmds = append(cmds, []string{"set-option", "-t", Arg("=" + spec.Session + ":"), "history-limit", strconv.Itoa(s.HistoryLimit)})
	}
	create, rest := s.paneTail(spec)
	cmds = append(cmds, append([]string{"new-window", "-d", "-t", Arg("=" + spec.Session + ":"), "-n", Literal(spec.TempName)}, create...))
	return s.create(ctx, append(cmds, rest...))
}

func (s *Server) newSessionWith(ctx context.Context, spec WindowSpec) (Window, error) {
	cmds := s.serverSetup(true)
	create, rest := s.paneTail(spec)
	cmds = append(cmds, append([]string{"new-session", "-d", "-s", Literal(spec.Session), "-n", Literal(spec.TempName)}, create...))
	cmds = append(cmds, rest...)
	session := Arg("=" + spec.Session + ":")
	if !s.Private() {
		cmds = append(cmds, []string{"set-option", "-t", session, "history-limit", strconv.Itoa(s.HistoryLimit)})
	}
	// The session is bgmux's own: its status line counts the tasks, and
	// its left side (tmux's default "[NAME] ") shows the whole name.
	cmds = append(cmds, []string{"set-option", "-t", session, "status-right", Arg(sessionStatusRight)},
		[]string{"set-option", "-t", session, "status-right-length", "60"},
		[]string{"set-option", "-t", session, "status-left-length", strconv.Itoa(StatusLeftLength(spec.Session))})
	return s.create(ctx, cmds)
}

// paneTail is the shared part of new-window/new-session: the creating
// command's start directory, id output and command, then the commands
// that must run before the pane can die (its options, the output pipe,
// the name), then the window's looks. Kept in this order, a list too long
// for one invocation is split (runCommands) after what matters most.
func (s *Server) paneTail(spec WindowSpec) (create []string, rest [][]string) {
	target := Arg("=" + spec.Session + ":=" + spec.TempName)
	create = []string{"-P", "-F", idFormat}
	if spec.Cwd != "" {
		create = append(create, "-c", Literal(spec.Cwd))
	}
	create = append(create, "--")
	for _, a := range spec.Argv {
		create = append(create, Arg(a))
	}
	rest = [][]string{
		{"set-option", "-w", "-t", target, "remain-on-exit", "on"},
		{"set-option", "-w", "-t", target, "remain-on-exit-format", ""},
		{"set-option", "-w", "-t", target, "automatic-rename", "off"},
	}
	keys := make([]string, 0, len(spec.Options))
	for k := range spec.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rest = append(rest, []string{"set-option", "-w", "-t", target, Arg(k), Arg(spec.Options[k])})
	}
	name := spec.Name
	if name == "" {
		name = spec.TempName
	}
	// The looks before the rename: they target the temporary name too.
	rest = append(rest, windowLook(target)...)
	return create, append(rest, []string{"rename-window", "-t", target, Literal(name)})
}

// StatusLeftLength is the status-left-length that shows tmux's default
// status-left, "[NAME] ", whole for session name: its bytes (at least its
// columns), never less than tmux's default of 10.
func StatusLeftLength(name string) int {
	return max(10, len(name)+3)
}

func (s *Server) create(ctx context.Context, cmds [][]string) (Window, error) {
	out, _, err := s.runCommands(ctx, cmds)
	if err != nil {
		return Window{}, err
	}
	return parseWindowLine(out)
}

func parseWindowLine(out string) (Window, error) {
	line := strings.TrimSpace(out)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	f := strings.Split(line, "\t")
	if len(f) != 4 {
		return Window{}, fmt.Errorf("tmuxctl: unexpected new-window output %q", out)
	}
	pid, _ := strconv.Atoi(f[3])
	return Window{SessionID: f[0], Window: f[1], Pane: f[2], PanePID: pid}, nil
}

// KillWindows kills the given windows (by id), as many per invocation as
// tmux takes; windows that no longer exist are not an error. It first
// lists the server's panes, so a server that does not answer fails it
// before any window is touched.
func (s *Server) KillWindows(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	panes, err := s.ListPanes(ctx)
	if err != nil {
		return err
	}
	exists := map[string]bool{}
	for _, p := range panes {
		exists[p.Window] = true
	}
	var cmds [][]string
	for _, id := range ids {
		if exists[id] {
			cmds = append(cmds, []string{"kill-window", "-t", Arg(id)})
			exists[id] = false
		}
	}
	_, _, err = s.runCommands(ctx, cmds)
	return err
}

// RespawnPane runs argv again in an existing (dead) pane, in one
// invocation: the window, its name, options and
// scrollback stay, so a human sees the new run below the old one.
func (s *Server) RespawnPane(ctx context.Context, pane, cwd string, argv []string) error {
	if len(argv) == 0 {
		return errors.New("tmuxctl: empty command")
	}
	respawn := []string{"respawn-pane", "-k", "-t", Arg(pane)}
	if cwd != "" {
		respawn = append(respawn, "-c", Literal(cwd))
	}
	respawn = append(respawn, "--")
	for _, a := range argv {
		respawn = append(respawn, Arg(a))
	}
	cmds := [][]string{respawn}
	cmds = append(cmds, []string{"set-option", "-w", "-t", Arg(pane), StateOption, "running"})
	_, _, err := s.runCommands(ctx, cmds)
	return err
}
