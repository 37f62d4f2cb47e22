package cli

import (
	"context"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// sendOptions are the parsed flags and arguments of send.
type sendOptions struct {
	task string
	tasks.SendOptions
	json bool
	// The raw flags, read into SendOptions and wait.
	noEnter          bool
	keys             ucli.StringSlice
	waitFor, timeout string
	// wait is --wait-for and --timeout; nil without --wait-for.
	wait *waitSpec
}

func sendCommand(stdio IO, runF func(*sendOptions) error) *ucli.Command {
	o := &sendOptions{}
	return &ucli.Command{
		Name:  "send",
		Usage: "type TEXT and Enter into the task's terminal, or press named keys (--key C-c)",
		Description: "TEXT is typed literally, then Enter (unless --no-enter or --key); several words are joined\n" +
			"with spaces. --key presses a key in tmux's syntax (Enter, Escape, Tab, Up, C-c, M-x, F5, ...)\n" +
			"right after the text, with no Enter between (send sh 'git chec' --key Tab completes);\n" +
			"repeat it for several keys, and add --key Enter where Enter is wanted. Put TEXT that\n" +
			"starts with - after --.\n" +
			"--wait-for REGEX then waits, as wait --for does, for a line of output printed after the text\n" +
			"was sent (the terminal's echo of the text included: anchor the REGEX, e.g. '^42$'), and prints\n" +
			"it; earlier output never matches. --timeout bounds that wait (exit status 124).",
		ArgsUsage: "TASK [TEXT] [--wait-for REGEX [--timeout D]]",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "no-enter", Usage: "do not press Enter after TEXT", Destination: &o.noEnter},
			&ucli.StringSliceFlag{Name: "key", Usage: "press this named key right after the text, instead of Enter (repeatable)", Destination: &o.keys},
			&ucli.StringFlag{Name: "wait-for", Usage: "then wait for an output line after the text, matching this regular expression; print it", Destination: &o.waitFor},
			&ucli.StringFlag{Name: "timeout", Usage: "with --wait-for: give up after this long (exit status 124; the task goes on)", Destination: &o.timeout},
			jsonFlagTo(&o.json),
		},
		Action: func(c *ucli.Context) error {
			if err := o.check(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runSend(c.Context, stdio, lazyManager(c), o)
		},
	}
}

// check completes send's options from the flags and arguments given,
// before anything is typed.
func (o *sendOptions) check(c *ucli.Context) error {
	if c.NArg() == 0 {
		return &usageError{msg: "send needs a TASK and the TEXT to type (or --key KEY)"}
	}
	o.task = c.Args().First()
	text := strings.Join(c.Args().Tail(), " ")
	keys := o.keys.Value()
	if text == "" && len(keys) == 0 {
		return &usageError{msg: "nothing to send: give the TEXT to type, or --key KEY (e.g. --key Enter, --key C-c)"}
	}
	for _, k := range keys {
		if err := tasks.ValidateKey(k); err != nil {
			return err
		}
	}
	if c.IsSet("wait-for") {
		var err error
		if o.wait, err = parseWait(c, "wait-for", o.waitFor, o.timeout, o.json); err != nil {
			return err
		}
	} else if c.IsSet("timeout") {
		return &usageError{msg: "--timeout goes with --wait-for; give both or neither"}
	}
	// Keys follow the text directly: Enter only when no key is named.
	o.SendOptions = tasks.SendOptions{Text: text, Enter: text != "" && len(keys) == 0 && !o.noEnter, Keys: keys}
	return nil
}

// runSend types into the task, and with --wait-for waits for the answer.
func runSend(ctx context.Context, stdio IO, getM managerFunc, o *sendOptions) error {
	m, t, err := getTask(getM, o.task)
	if err != nil {
		return err
	}
	w := o.wait
	if w != nil {
		// Only output after this point answers what is sent now.
		if w.from, err = m.LogEnd(t); err != nil {
			return err
		}
	}
	if err := m.Send(ctx, t, o.SendOptions); err != nil {
		return err
	}
	if w != nil {
		res, err := w.wait(ctx, stdio, m, t, 0)
		if err != nil {
			return err
		}
		return w.report(stdio, res, false)
	}
	if o.json {
		return writeJSON(stdio.Out, map[string]any{"sent": true, "task": t})
	}
	return nil
}
