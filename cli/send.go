package cli

import (
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

func sendCommand(stdio IO) *ucli.Command {
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
			&ucli.BoolFlag{Name: "no-enter", Usage: "do not press Enter after TEXT"},
			&ucli.StringSliceFlag{Name: "key", Usage: "press this named key right after the text, instead of Enter (repeatable)"},
			&ucli.StringFlag{Name: "wait-for", Usage: "then wait for an output line after the text, matching this regular expression; print it"},
			&ucli.StringFlag{Name: "timeout", Usage: "with --wait-for: give up after this long (exit status 124; the task goes on)"},
			jsonFlag,
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() == 0 {
				return &usageError{msg: "send needs a TASK and the TEXT to type (or --key KEY)"}
			}
			text := strings.Join(c.Args().Tail(), " ")
			keys := c.StringSlice("key")
			if text == "" && len(keys) == 0 {
				return &usageError{msg: "nothing to send: give the TEXT to type, or --key KEY (e.g. --key Enter, --key C-c)"}
			}
			for _, k := range keys {
				if err := tasks.ValidateKey(k); err != nil {
					return err
				}
			}
			var w *waitSpec
			if c.IsSet("wait-for") {
				var err error
				if w, err = parseWait(c, "wait-for", c.String("wait-for"), c.String("timeout"), c.Bool("json")); err != nil {
					return err
				}
			} else if c.IsSet("timeout") {
				return &usageError{msg: "--timeout goes with --wait-for; give both or neither"}
			}
			m, err := manager(c)
			if err != nil {
				return err
			}
			t, err := m.Get(c.Args().First())
			if err != nil {
				return err
			}
			// Keys follow the text directly: Enter only when no key is named.
			opts := tasks.SendOptions{Text: text, Enter: text != "" && len(keys) == 0 && !c.Bool("no-enter"), Keys: keys}
			if w != nil {
				// Only output after this point answers what is sent now.
				if w.from, err = m.LogEnd(t); err != nil {
					return err
				}
			}
			if err := m.Send(c.Context, t, opts); err != nil {
				return err
			}
			if w != nil {
				res, err := w.wait(c.Context, stdio, m, t, 0)
				if err != nil {
					return err
				}
				return w.report(stdio, res, false)
			}
			if c.Bool("json") {
				return writeJSON(stdio.Out, map[string]any{"sent": true, "task": t})
			}
			return nil
		},
	}
}
