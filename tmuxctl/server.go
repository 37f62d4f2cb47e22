// Package tmuxctl is the only code in bgmux that speaks to tmux. It knows
// sessions, windows and panes, never tasks: callers hand it names, argv and
// file paths and get tmux ids back.
package tmuxctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultSocket is the private socket name bgmux uses unless configured
// otherwise; it keeps the user's tmux config, plugins and sessions apart.
const DefaultSocket = "bgmux"

// UserSocket is the socket setting that selects the user's normal tmux server.
const UserSocket = "default"

// ErrNoServer reports that no tmux server is running on the socket.
var ErrNoServer = errors.New("no tmux server running")

// ErrNotInstalled reports that the tmux binary is not on PATH.
var ErrNotInstalled = errors.New("tmux is not installed or not on PATH")

// ErrNoAnswer reports that tmux did not answer within the server's
// Timeout: its server is stopped (SIGSTOP) or hung. The command may still
// run when the server wakes up.
var ErrNoAnswer = errors.New("tmux did not answer")

// ErrNoTarget reports that the server runs but has no such pane, window
// or session (tmux's "can't find pane: %5", "no such window: @3"): it
// was closed, or its id belongs to an earlier server.
var ErrNoTarget = errors.New("no such tmux pane, window or session")

// DefaultTimeout bounds every tmux invocation unless Server.Timeout says
// otherwise (config key tmux_timeout).
const DefaultTimeout = 5 * time.Second

// Server addresses one tmux server: bgmux's private one (-L name, started
// with its own empty config) or the user's default server.
type Server struct {
	// Socket is the -L socket name; "default" or "" means the user's server.
	Socket string
	// HistoryLimit is the scrollback kept for panes bgmux creates.
	HistoryLimit int
	// Timeout bounds each tmux invocation (0 means DefaultTimeout), so a
	// stopped or hung server fails a command with ErrNoAnswer instead of
	// blocking it. An attached client (Attach) has no deadline.
	Timeout time.Duration

	// path, when set, is the socket's file path (-S), used instead of
	// Socket: the server a pane runs on, as $TMUX names it.
	path string

	// trace, when set, sees the full argv of every raw tmux invocation;
	// it exists so tests can count invocations (gotmux calls bypass it).
	trace func(args []string)
}

// New returns a Server for the given socket name ("" means DefaultSocket).
func New(socket string) *Server {
	if socket == "" {
		socket = DefaultSocket
	}
	return &Server{Socket: socket, HistoryLimit: 50000, Timeout: DefaultTimeout}
}

// timeout is the deadline of one invocation.
func (s *Server) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

// Private reports whether this is bgmux's own server rather than the user's.
func (s *Server) Private() bool { return s.Socket != UserSocket && s.Socket != "" }

// baseArgs are the arguments that select the server (and its config when
// the command starts it).
func (s *Server) baseArgs() []string {
	if s.path != "" {
		return []string{"-S", s.path}
	}
	if !s.Private() {
		return nil
	}
	return []string{"-L", s.Socket, "-f", os.DevNull}
}

// SocketPath is the filesystem path of the server's socket, as tmux
// computes it for -L (TMUX_TMPDIR or /tmp, then tmux-UID).
func (s *Server) SocketPath() string {
	if !s.Private() {
		if t := os.Getenv("TMUX"); t != "" {
			return strings.SplitN(t, ",", 2)[0]
		}
		return filepath.Join(tmuxTmpDir(), "default")
	}
	return filepath.Join(tmuxTmpDir(), s.Socket)
}

func tmuxTmpDir() string {
	dir := os.Getenv("TMUX_TMPDIR")
	if dir == "" {
		dir = "/tmp"
	}
	return filepath.Join(dir, "tmux-"+strconv.Itoa(os.Getuid()))
}

// CommandLine is the shell-readable tmux invocation a human would type to
// reach this server, e.g. "tmux -L bgmux".
func (s *Server) CommandLine() string {
	if !s.Private() {
		return "tmux"
	}
	return "tmux -L " + ShellQuote(s.Socket)
}

// Error is a failed tmux invocation with tmux's own message kept.
type Error struct {
	Args   []string
	Stderr string
	Err    error
	// Waited is how long tmux was given when Err is ErrNoAnswer.
	Waited time.Duration
}

func (e *Error) Error() string {
	if errors.Is(e.Err, ErrNoAnswer) {
		return fmt.Sprintf("tmux %s: tmux did not answer within %v; is its server stopped or hung? Resume it (kill -CONT) or end it (tmux%s kill-server); tmux_timeout in the config sets this limit",
			firstCommand(e.Args), e.Waited, socketArgs(e.Args))
	}
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return "tmux " + firstCommand(e.Args) + ": " + msg
}

// socketArgs is the -L/-S part of args as shell words (with a leading
// space), "" for the default server.
func socketArgs(args []string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-L" || args[i] == "-S" {
			return " " + args[i] + " " + ShellQuote(args[i+1])
		}
	}
	return ""
}

func (e *Error) Unwrap() error { return e.Err }

func firstCommand(args []string) string {
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-L", "-f", "-S":
			i++
			continue
		}
		return args[i]
	}
	return ""
}

// run executes one tmux invocation (possibly a command list joined by ";")
// and returns its stdout; the error carries tmux's stderr.
func (s *Server) run(ctx context.Context, args ...string) (string, error) {
	full := append(s.baseArgs(), args...)
	if s.trace != nil {
		s.trace(full)
	}
	limit := s.timeout()
	tctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(tctx, "tmux", full...)
	// The client hands its stdin, stdout and stderr to the server (fd
	// passing): a stopped server holds our pipes open after the client
	// is killed, so Wait must not wait for them to close.
	cmd.WaitDelay = 100 * time.Millisecond
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	began := time.Now()
	err := cmd.Run()
	if os.Getenv("BGMUX_DEBUG_TMUX") != "" {
		// One line per tmux process, with how long it took: what the
		// benchmark counts and uses to split start's time.
		fmt.Fprintf(os.Stderr, "bgmux: tmux %q took %.2f ms\n", full, float64(time.Since(began).Microseconds())/1000)
	}
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", ErrNotInstalled
		}
		e := &Error{Args: full, Stderr: stderr.String(), Err: err}
		switch {
		case ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded):
			e.Err, e.Waited = ErrNoAnswer, limit
		case isNoServer(e.Stderr):
			e.Err = ErrNoServer
		case isNoTarget(e.Stderr):
			e.Err = ErrNoTarget
		}
		return stdout.String(), e
	}
	return stdout.String(), nil
}

// isNoServer reports whether tmux's stderr says no server answers. A
// server that is exiting (its last session just closed, or kill-server)
// may accept the connection and then drop it: tmux says "server exited
// unexpectedly" or "lost server", and the server is gone all the same.
func isNoServer(stderr string) bool {
	return strings.Contains(stderr, "no server running") ||
		strings.Contains(stderr, "server exited unexpectedly") || strings.Contains(stderr, "lost server") ||
		(strings.Contains(stderr, "error connecting to") && strings.Contains(stderr, "No such file or directory")) ||
		strings.Contains(stderr, "Connection refused")
}

// isNoTarget reports whether tmux's stderr says a command's target (-t)
// does not exist: "can't find pane: %5" from most commands, "no such
// window: %5" from set-option (tmux 3.3a).
func isNoTarget(stderr string) bool {
	for _, what := range []string{"pane", "window", "session"} {
		if strings.Contains(stderr, "can't find "+what) || strings.Contains(stderr, "no such "+what) {
			return true
		}
	}
	return false
}

// Running reports whether a server answers on the socket.
func (s *Server) Running(ctx context.Context) bool {
	_, err := s.run(ctx, "list-sessions", "-F", "#{session_id}")
	return err == nil
}

// Version returns the tmux client version string, e.g. "3.3a".
func Version(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "tmux", "-V").Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", ErrNotInstalled
		}
		return "", fmt.Errorf("tmux -V: %w", err)
	}
	v := strings.TrimSpace(string(out))
	return strings.TrimPrefix(v, "tmux "), nil
}

// ShellQuote quotes s for a POSIX shell so that it is read back as one word
// with no expansion.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@,+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
