package tmuxctl

import (
	"context"
	"os"
	"strings"
)

// StateOption is the window user option that carries a task's state for
// the window list: running, restarting, ok, stopped (ended by bgmux stop),
// failed or lost. Windows are
// never renamed for it (names are targets).
const StateOption = "@bgmux_state"

// windowStatusFormat is the window's entry in the status line: as tmux's
// default, preceded by a marker for a task that failed (red ✗), was lost
// (yellow ?) or waits to restart (yellow ↻); a task that ended well or was
// stopped on purpose (bgmux stop) is dimmed, a stopped one after a "■"
// mark; a running one looks normal.
const windowStatusFormat = "#{?#{==:#{" + StateOption + "},failed},#[fg=red#,bold]✗ ," +
	"#{?#{==:#{" + StateOption + "},lost},#[fg=yellow]? ," +
	"#{?#{==:#{" + StateOption + "},restarting},#[fg=yellow]↻ ," +
	"#{?#{==:#{" + StateOption + "},stopped},#[dim]■ ," +
	"#{?#{==:#{" + StateOption + "},ok},#[dim],}}}}}" +
	"#I:#W#{?window_flags,#{window_flags}, }#[default]"

// countFormat counts the session's windows whose state is state.
func countFormat(state string) string {
	return "#{n:#{W:#{?#{==:#{" + StateOption + "}," + state + "},x,}}}"
}

// sessionStatusRight is the right side of a bgmux session's status line:
// how many of its tasks run, how many failed (a task ended by bgmux stop
// did not fail) and how many were lost.
var sessionStatusRight = "#[fg=green]" + countFormat("running") + " running#[default] " +
	"#[fg=red]" + countFormat("failed") + " failed#[default] " + countFormat("lost") + " lost "

// windowLook is the window options that make the window list show the
// task's state.
func windowLook(target string) [][]string {
	return [][]string{
		{"set-option", "-w", "-t", target, "window-status-format", Arg(windowStatusFormat)},
		{"set-option", "-w", "-t", target, "window-status-current-format", Arg(windowStatusFormat)},
	}
}

// SetWindowState records a task's state on its window (pane id) for the
// window list.
func (s *Server) SetWindowState(ctx context.Context, pane, state string) error {
	_, err := s.run(ctx, "set-option", "-w", "-t", Arg(pane), StateOption, Arg(state))
	return err
}

// SetWindowsState records state on the windows of panes (pane ids), as
// many per invocation as tmux takes.
func (s *Server) SetWindowsState(ctx context.Context, panes []string, state string) error {
	cmds := make([][]string, 0, len(panes))
	for _, p := range panes {
		cmds = append(cmds, []string{"set-option", "-w", "-t", Arg(p), StateOption, Arg(state)})
	}
	_, _, err := s.runCommands(ctx, cmds)
	return err
}

// CloseOwnPane closes the pane the calling process runs in, on the server
// it runs on, as tmux told it ($TMUX and $TMUX_PANE); its window goes with
// it. Outside tmux it does nothing. A supervisor whose task is gone (its
// start gave up, or it was removed) uses it so that no window is left
// behind for a task that does not exist.
func CloseOwnPane(ctx context.Context) error {
	sock, _, _ := strings.Cut(os.Getenv("TMUX"), ",")
	pane := os.Getenv("TMUX_PANE")
	if sock == "" || pane == "" {
		return nil
	}
	s := &Server{path: sock}
	_, err := s.run(ctx, "kill-pane", "-t", Arg(pane))
	return err
}
