package tasks

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bgmux/bgmux/control"
	"github.com/bgmux/bgmux/tmuxctl"
)

// SendOptions is what Send types into a task's pane.
type SendOptions struct {
	// Text is typed literally (no key names are interpreted).
	Text string
	// Enter presses Enter after Text.
	Enter bool
	// Keys are named keys in tmux's syntax (C-c, Enter, Up, M-x, F5...),
	// pressed in order right after Text (and Enter, when set).
	Keys []string
}

// Send types into the task's pane as a person at the keyboard would: what
// the task reads from its terminal (a prompt, a REPL, a shell's read).
// Keys such as C-c go through the terminal, so C-c interrupts the task's
// foreground process group. A finished task is a conflict: nothing reads
// its terminal any more.
func (m *Manager) Send(ctx context.Context, t *Task, opts SendOptions) error {
	if opts.Text == "" && !opts.Enter && len(opts.Keys) == 0 {
		return Errorf(KindInvalid, "nothing to send; give TEXT or --key KEY")
	}
	if strings.IndexByte(opts.Text, 0) >= 0 {
		return Errorf(KindInvalid, "the text contains a NUL byte, which cannot be typed")
	}
	for _, k := range opts.Keys {
		if err := ValidateKey(k); err != nil {
			return err
		}
	}
	if t.State.Finished() {
		return Errorf(KindConflict, "task %s (%s) has %s; nothing reads its input any more", t.Name, t.ID, finishedText(t))
	}
	if (t.window == nil || t.window.Pane == "") && t.supervisorAlive() {
		return m.sendThroughSupervisor(t, opts)
	}
	if t.window == nil || t.window.Pane == "" {
		return Errorf(KindConflict, "task %s (%s) has no tmux pane yet; try again in a moment", t.Name, t.ID)
	}
	if err := m.otherSocket(t); err != nil {
		return err
	}
	pane := t.window.Pane
	// The window may be gone while the task runs on (its tmux server went
	// away, its window was closed): it is typed into through its
	// supervisor then.
	if len(opts.Keys) > 0 || opts.Text != "" || opts.Enter {
		panes, err := m.Tmux.ListPanes(ctx)
		if err == nil && m.windowless(t, panes) {
			return m.sendThroughSupervisor(t, opts)
		}
	}
	if opts.Text != "" || opts.Enter {
		if err := m.Tmux.SendText(ctx, pane, opts.Text, opts.Enter); err != nil {
			return sendErr(err, "send to "+t.Name)
		}
	}
	for _, k := range opts.Keys {
		if err := m.Tmux.SendKey(ctx, pane, k); err != nil {
			return sendErr(err, "send "+k+" to "+t.Name)
		}
	}
	return nil
}

// sendThroughSupervisor types into a task that has no window by way of
// its supervisor's control socket: the same bytes a terminal would send
// for the text and keys.
func (m *Manager) sendThroughSupervisor(t *Task, opts SendOptions) error {
	data := []byte(opts.Text)
	if opts.Enter {
		data = append(data, '\r')
	}
	for _, k := range opts.Keys {
		data = append(data, keyBytes(k)...)
	}
	rep, err := m.controlAsk(t, control.Request{Op: "input", Data: data}, 5*time.Second)
	if err == nil && !rep.OK {
		err = errors.New(rep.Error)
	}
	if err != nil {
		return Errorf(KindConflict, "send to %s: the task has no window and its supervisor did not take the input (%v); bgmux attach %s gives it a window again", t.Name, err, t.ID)
	}
	return nil
}

// sendErr classifies a failed send; keys sent to a server that did not
// answer in time are typed when it wakes up, and the error says so.
func sendErr(err error, what string) error {
	if errors.Is(err, tmuxctl.ErrNoAnswer) {
		what += " (tmux may still type it when its server wakes up)"
	}
	return tmuxErr(err, what)
}

// finishedText says how a finished task ended: "exited 3", "been killed
// by SIGTERM", "been lost".
func finishedText(t *Task) string {
	switch {
	case t.State == Exited && t.ExitCode != nil:
		s := "exited " + strconv.Itoa(*t.ExitCode)
		if t.NextRestartAt != nil {
			s += " and is waiting to restart"
		}
		return s
	case t.State == Killed && t.Signal != nil:
		return "been killed by " + *t.Signal
	}
	return "been " + string(t.State)
}

// keyNames are tmux's names for keys (key-string.c), lower-cased; tmux
// matches them without regard to case.
// Built on first use: a process that sends no keys does not pay for it.
var keyNames = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	for _, k := range strings.Fields(`IC Insert DC Delete Home End NPage PageDown PgDn PPage PageUp PgUp
		Tab BTab Space BSpace Enter Escape Up Down Left Right
		KP/ KP* KP- KP7 KP8 KP9 KP+ KP4 KP5 KP6 KP1 KP2 KP3 KPEnter KP0 KP.`) {
		names[strings.ToLower(k)] = true
	}
	for i := 1; i <= 12; i++ {
		names["f"+strconv.Itoa(i)] = true
	}
	return names
})

// ValidateKey checks a key in tmux's syntax: modifiers C-, M- and S- (or
// ^ for Ctrl) before a key name (Enter, Up, F5, ...) or one character.
// tmux would type an unknown name as literal text instead of failing, so
// bgmux refuses it.
func ValidateKey(key string) error {
	k := key
	for {
		if len(k) > 2 && k[1] == '-' && strings.ContainsRune("CcMmSs", rune(k[0])) {
			k = k[2:]
			continue
		}
		if len(k) > 1 && k[0] == '^' {
			k = k[1:]
			continue
		}
		break
	}
	if keyNames()[strings.ToLower(k)] || utf8.RuneCountInString(k) == 1 && k >= " " && k != "\x7f" {
		return nil
	}
	return Errorf(KindInvalid, "unknown key %q; use tmux key names such as Enter, Escape, Tab, Up, C-c, M-x, F5, or one character (send text as TEXT)", key)
}
