package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// Each command is shaped alike, as in GitHub's gh: an options struct its
// flags bind into (Destination), a constructor xCommand(stdio, runF)
// returning the *ucli.Command, and a function runX(ctx, stdio, m, opts)
// doing the work. The constructor's Action checks the flags and fills
// the options, then calls runF (tests pass one to see the parsed options
// without tmux, see parseWith in command_test.go) or, when runF is nil,
// runX. Commands that need no Manager (version, completion) take none.

// managerFunc gets the Manager when a command first needs it, so flags
// are checked before the configuration is read.
type managerFunc func() (*tasks.Manager, error)

// lazyManager is the managerFunc of a parsed command line: it builds the
// Manager from the global --config flag.
func lazyManager(c *ucli.Context) managerFunc {
	return func() (*tasks.Manager, error) { return manager(c) }
}

// jsonFlagTo is the --json flag bound to p.
func jsonFlagTo(p *bool) *ucli.BoolFlag {
	return &ucli.BoolFlag{Name: jsonFlag.Name, Usage: jsonFlag.Usage, Destination: p}
}

// oneTaskArg is the command's single TASK argument.
func oneTaskArg(c *ucli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", &usageError{msg: c.Command.Name + " takes exactly one TASK (an id, a name or an id prefix)"}
	}
	return c.Args().First(), nil
}

// getTask builds the Manager and resolves ref.
func getTask(getM managerFunc, ref string) (*tasks.Manager, *tasks.Task, error) {
	m, err := getM()
	if err != nil {
		return nil, nil, err
	}
	t, err := m.Get(ref)
	return m, t, err
}
