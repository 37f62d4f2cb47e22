package tmuxctl

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Pane is one line of the server-wide pane listing.
type Pane struct {
	Pane       string
	Window     string
	SessionID  string
	Session    string
	PID        int
	Dead       bool
	DeadStatus string // empty when tmux has not reaped the pane's process
	TaskID     string // the window's @bgmux_id user option
}

// TaskOption is the window user option that carries the bgmux task id.
const TaskOption = "@bgmux_id"

// paneFormat puts the one free-text field (session name, which tmux keeps
// free of control characters) last, so a tab inside it cannot shift fields.
const paneFormat = "#{pane_id}\t#{window_id}\t#{session_id}\t#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t#{" + TaskOption + "}\t#{session_name}"

// ListPanes lists every pane on the server in one tmux invocation. No
// running server is an empty list, not an error.
func (s *Server) ListPanes(ctx context.Context) ([]Pane, error) {
	out, err := s.run(ctx, "list-panes", "-a", "-F", paneFormat)
	if err != nil {
		if errors.Is(err, ErrNoServer) {
			return nil, nil
		}
		return nil, err
	}
	return parsePanes(out), nil
}

func parsePanes(out string) []Pane {
	var panes []Pane
	for _, line := range strings.Split(out, "\n") {
		f := strings.SplitN(line, "\t", 8)
		if len(f) != 8 || !strings.HasPrefix(f[0], "%") {
			continue
		}
		pid, _ := strconv.Atoi(f[3])
		panes = append(panes, Pane{
			Pane: f[0], Window: f[1], SessionID: f[2], PID: pid,
			Dead: f[4] == "1", DeadStatus: f[5], TaskID: f[6], Session: f[7],
		})
	}
	return panes
}

// Capture returns what the pane shows: its scrollback and screen, wrapped
// lines joined. lines > 0 limits it to the last lines rows; 0 means the
// whole history. Trailing blank rows of the screen are dropped.
func (s *Server) Capture(ctx context.Context, pane string, lines int) (string, error) {
	start := "-"
	if lines > 0 {
		start = "-" + strconv.Itoa(lines)
	}
	out, err := s.run(ctx, "capture-pane", "-p", "-J", "-t", Arg(pane), "-S", start, "-E", "-")
	if err != nil {
		return "", err
	}
	out = strings.TrimRight(out, "\n ")
	if out != "" {
		out += "\n"
	}
	if lines > 0 {
		rows := strings.SplitAfter(out, "\n")
		if n := len(rows) - 1; n > lines { // last element is "" after the final newline
			out = strings.Join(rows[n-lines:], "")
		}
	}
	return out, nil
}

// SendText types text literally into the pane, followed by Enter when
// enter is set, in one invocation.
func (s *Server) SendText(ctx context.Context, pane, text string, enter bool) error {
	args := []string{"send-keys", "-t", Arg(pane), "-l", "--", Arg(text)}
	if text == "" {
		args = nil
	}
	if enter {
		if args != nil {
			args = append(args, ";")
		}
		args = append(args, "send-keys", "-t", Arg(pane), "Enter")
	}
	if args == nil {
		return nil
	}
	_, err := s.run(ctx, args...)
	return err
}

// SendKey sends one named key (tmux key syntax, e.g. "C-c", "Enter", "Up").
func (s *Server) SendKey(ctx context.Context, pane, key string) error {
	_, err := s.run(ctx, "send-keys", "-t", Arg(pane), "--", Arg(key))
	return err
}
