package tmuxctl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/GianlucaP106/gotmux/gotmux"
)

// withGotmux runs f against this server through gotmux v0.5.0, wrapping two
// of its defects: NewTmux fails unless a server already runs on the socket
// (reported here as ErrNoServer after our own check), and its format parser
// panics (log.Panicln) on values containing its separator "-:-" or a
// newline (recovered here into an error). gotmux runs tmux itself,
// without the server's Timeout: only the Running check before it has the
// deadline, so a server that stops between the two can still block f.
func (s *Server) withGotmux(ctx context.Context, what string, f func(*gotmux.Tmux) error) (err error) {
	if !s.Running(ctx) {
		return ErrNoServer
	}
	t, err := gotmux.NewTmux(s.SocketPath())
	if err != nil {
		return fmt.Errorf("%s: connect to %s: %w", what, s.SocketPath(), err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: gotmux could not parse tmux's answer: %v", what, r)
		}
	}()
	if err := f(t); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Info is what tmux says about a running server.
type Info struct {
	PID     int32
	Version string
	Socket  string
}

// ServerInfo asks the running server for its pid and version. It is a raw
// call, not gotmux's GetServerInformation: given a socket, gotmux v0.5.0
// passes display-message -F instead of -p (it looks for "display-message"
// in the first word of the command, which is then "-S"), so tmux prints
// nothing and gotmux's parser fails.
func (s *Server) ServerInfo(ctx context.Context) (Info, error) {
	out, err := s.run(ctx, "display-message", "-p", "#{pid}\t#{version}")
	if err != nil {
		if errors.Is(err, ErrNoServer) {
			return Info{}, ErrNoServer
		}
		return Info{}, fmt.Errorf("server info: %w", err)
	}
	pid, version, ok := strings.Cut(strings.TrimSpace(out), "\t")
	n, perr := strconv.ParseInt(pid, 10, 32)
	if !ok || perr != nil || n <= 0 {
		return Info{}, fmt.Errorf("server info: unexpected answer from tmux: %q", out)
	}
	return Info{PID: int32(n), Version: version, Socket: s.SocketPath()}, nil
}

// SessionNames lists the server's sessions through gotmux; a session
// whose fields break gotmux's parser (a start directory holding "-:-" or a
// newline, say) is an error, not a crash.
func (s *Server) SessionNames(ctx context.Context) ([]string, error) {
	var names []string
	err := s.withGotmux(ctx, "list sessions", func(t *gotmux.Tmux) error {
		ss, err := t.ListSessions()
		if err != nil {
			return err
		}
		for _, x := range ss {
			names = append(names, x.Name)
		}
		return nil
	})
	return names, err
}

// KillServer ends the server and every pane on it. No server is not an error.
func (s *Server) KillServer(ctx context.Context) error {
	err := s.withGotmux(ctx, "kill server", func(t *gotmux.Tmux) error { return t.KillServer() })
	if err == ErrNoServer || err != nil && !s.Running(ctx) {
		// No server, or one that exited while we asked.
		return nil
	}
	return err
}
