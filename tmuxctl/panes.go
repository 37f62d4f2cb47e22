package tmuxctl

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
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
		// A server whose last session just closed answers "no current
		// target" until it exits: it has no panes either.
		if errors.Is(err, ErrNoServer) || strings.Contains(stderrOf(err), "no current target") {
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
// enter is set, in one invocation (more for a text too long for one:
// it is typed in pieces, in order).
func (s *Server) SendText(ctx context.Context, pane, text string, enter bool) error {
	var cmds [][]string
	for _, piece := range splitText(text, sendPiece) {
		cmds = append(cmds, []string{"send-keys", "-t", Arg(pane), "-l", "--", Arg(piece)})
	}
	if enter {
		cmds = append(cmds, []string{"send-keys", "-t", Arg(pane), "Enter"})
	}
	_, _, err := s.runCommands(ctx, cmds)
	return err
}

// sendPiece bounds the text one send-keys command carries.
const sendPiece = 4096

// splitText cuts text into pieces of at most n bytes, never inside a
// UTF-8 sequence.
func splitText(text string, n int) []string {
	var pieces []string
	for len(text) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		if cut == 0 {
			cut = n
		}
		pieces = append(pieces, text[:cut])
		text = text[cut:]
	}
	if text != "" {
		pieces = append(pieces, text)
	}
	return pieces
}

// SendKey sends one named key (tmux key syntax, e.g. "C-c", "Enter", "Up").
func (s *Server) SendKey(ctx context.Context, pane, key string) error {
	_, err := s.run(ctx, "send-keys", "-t", Arg(pane), "--", Arg(key))
	return err
}

// PaneTitle is the title of pane (what the program in it set with OSC 2).
func (s *Server) PaneTitle(ctx context.Context, pane string) (string, error) {
	out, err := s.run(ctx, "display-message", "-p", "-t", Arg(pane), "#{pane_title}")
	return strings.TrimSuffix(out, "\n"), err
}
