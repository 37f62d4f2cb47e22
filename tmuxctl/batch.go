package tmuxctl

import (
	"context"
	"fmt"
)

// CommandLimit is the most argument bytes one tmux invocation can carry:
// the client sends its command (every argument with its NUL, after the
// argument count) in one message of at most 16384 bytes including a
// 16-byte header. Measured on tmux 3.3a: display-message -p with an
// argument of 16344 bytes (16364 in all) works, one byte more fails with
// "failed to send command", and past 16380 with "command too long".
const CommandLimit = 16364

// commandBudget is how many argument bytes bgmux puts in one invocation:
// the limit with a quarter to spare, so another tmux version's slightly
// different framing cannot make a list fail (room for about 550
// kill-window commands, of which maxListCommands go in one call).
const commandBudget = 12 * 1024

// maxListCommands bounds how many commands one invocation carries,
// however short they are: tmux's deadline (Timeout) is per invocation,
// and tmux takes its time per command (killing a window ends its
// processes): on a loaded machine a list of 550 kill-window took over
// 5 s, 64 of them under a second.
const maxListCommands = 64

// argBytes is what args cost in tmux's command message.
func argBytes(args []string) int {
	n := 0
	for _, a := range args {
		n += len(a) + 1
	}
	return n
}

// batches joins cmds (each one tmux command, no ";" between its words)
// into command lists of at most budget argument bytes and
// maxListCommands commands each, in order. A
// command too long for any invocation is an error naming it.
func batches(cmds [][]string, budget int) ([][]string, error) {
	var out [][]string
	var cur []string
	curSize, n := 0, 0 // n: commands in cur
	for _, c := range cmds {
		size := argBytes(c)
		if size > CommandLimit {
			return nil, fmt.Errorf("tmuxctl: tmux %s is %d bytes long, more than the %d bytes tmux can take in one command", firstCommand(c), size, CommandLimit)
		}
		if len(cur) > 0 && (curSize+2+size > budget || n == maxListCommands) {
			out = append(out, cur)
			cur, curSize, n = nil, 0, 0
		}
		n++
		if len(cur) > 0 {
			cur = append(cur, ";")
			curSize += 2
		}
		cur = append(cur, c...)
		curSize += size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

// runCommands runs cmds in order in as few invocations as the budget
// allows (one, unless they are long) and returns what they printed. It
// stops at the first failing invocation; done is how many of cmds were
// in the invocations that succeeded (tmux stops a list at its first
// failing command, so of the failing list an unknown prefix ran).
func (s *Server) runCommands(ctx context.Context, cmds [][]string) (out string, done int, err error) {
	lists, err := batches(cmds, commandBudget)
	if err != nil {
		return "", 0, err
	}
	for _, l := range lists {
		o, err := s.run(ctx, l...)
		out += o
		if err != nil {
			return out, done, err
		}
		done += countCommands(l)
	}
	return out, done, nil
}

// countCommands is how many commands the list holds.
func countCommands(list []string) int {
	n := 1
	for _, a := range list {
		if a == ";" {
			n++
		}
	}
	return n
}
