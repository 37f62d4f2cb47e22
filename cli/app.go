// Package cli is bgmux's command line: one file per command, each parsing
// its flags, calling tasks.Manager and rendering text or JSON to injected
// writers. It never talks to tmux itself.
package cli

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// Version is bgmux's version, set at build time with -ldflags.
var Version = "0.1.0-dev"

// IO is the set of streams and environment a command runs with; tests
// inject their own.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// Env is the caller's environment (os.Environ()).
	Env []string
}

// usageError is a command-line mistake: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitStatus is a command's chosen exit status with nothing to print.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Main runs bgmux with args (os.Args) and returns the process exit status.
func Main(args []string, stdio IO) int {
	if len(args) > 1 && args[1] == tasks.SuperviseCommand {
		return supervise(args[2:], stdio)
	}
	if len(args) > 1 && args[1] == tasks.ViewCommand {
		return view(args[2:], stdio)
	}
	if len(args) > 1 && args[1] == completeCommand {
		return complete(args[2:], stdio)
	}
	if len(args) == 2 && (args[1] == "--version" || args[1] == "-v") {
		// The same answer as the version command.
		args = []string{args[0], "version"}
	}
	// A CLI call lives for milliseconds: collecting garbage is wasted time.
	debug.SetGCPercent(400)
	if len(args) > 1 && args[1] == "help" {
		// "bgmux help [COMMAND]" is "bgmux [COMMAND] --help" (the help
		// command itself is hidden).
		args = append(append([]string{args[0]}, args[2:]...), "--help")
	}
	app := newApp(stdio)
	args = permuteArgs(app, args)
	err := app.Run(args)
	if name, ok := app.Metadata[unknownCommandKey].(string); ok && err == nil {
		msg := fmt.Sprintf("unknown command %q", name)
		if s := suggestCommand(app, name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		err = &usageError{msg: msg + "; see bgmux --help for the list of commands"}
	}
	return report(err, stdio, wantsJSON(args))
}

func newApp(stdio IO) *ucli.App {
	app := &ucli.App{
		Name:                 "bgmux",
		Usage:                "run background tasks in tmux windows, with exact status and complete output",
		Version:              Version,
		Reader:               stdio.In,
		Writer:               stdio.Out,
		ErrWriter:            stdio.Err,
		HideHelpCommand:      true,
		EnableBashCompletion: false,
		ExitErrHandler:       func(*ucli.Context, error) {},
		// A repeatable flag takes each value whole: --env 'A=x,y' is one
		// variable whose value has a comma, not A=x and a bad "y".
		DisableSliceFlagSeparator: true,
		OnUsageError: func(c *ucli.Context, err error, _ bool) error {
			return &usageError{msg: usageMessage(c, err)}
		},
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", Usage: "config file (default: $BGMUX_CONFIG, then ./bgmux.yaml up to the git top-level, then $XDG_CONFIG_HOME/bgmux/config.yaml)"},
		},
		// An unknown command is a usage error (exit status 2, a JSON
		// error with --json); urfave/cli gives this hook no way to fail,
		// so it leaves a note for Main.
		CommandNotFound: func(c *ucli.Context, name string) {
			c.App.Metadata[unknownCommandKey] = name
		},
		Metadata: map[string]any{},
	}
	app.Commands = []*ucli.Command{
		startCommand(stdio, nil), statusCommand(stdio, nil), listCommand(stdio, nil), logsCommand(stdio, nil),
		screenCommand(stdio, nil), stopCommand(stdio, nil), killCommand(stdio, nil), rmCommand(stdio, nil),
		pruneCommand(stdio, nil), restartCommand(stdio, nil), attachCommand(stdio, nil), doctorCommand(stdio, nil), versionCommand(stdio, nil),
		waitCommand(stdio, nil), sendCommand(stdio, nil), mcpCommand(stdio, nil), restoreCommand(stdio, nil), serviceCommand(stdio, nil),
		upCommand(stdio, nil), downCommand(stdio, nil), eventsCommand(stdio, nil), completionCommand(stdio, nil), setupCommand(stdio, nil, nil),
	}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
		// No "help"/"h" subcommand: `bgmux status h` asks for the task
		// named h. --help and -h still show a command's help.
		c.HideHelpCommand = len(c.Subcommands) == 0
	}
	return app
}

// unknownCommandKey is where CommandNotFound leaves the unknown name.
const unknownCommandKey = "bgmux.unknown-command"

// usageMessage rewords a flag parsing error from urfave/cli (which names
// flags with one dash) and says where to read the command's usage.
func usageMessage(c *ucli.Context, err error) string {
	flag := func(f string) string { // "-name" as urfave/cli writes it
		if name := strings.TrimLeft(f, "-"); len(name) > 1 {
			return "--" + name
		}
		return f
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		msg = "unknown flag " + flag(f)
		flags := c.App.Flags
		if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
			flags = c.Command.Flags
		}
		if s := suggestFlag(flags, strings.TrimLeft(f, "-")); s != "" {
			msg += " (did you mean " + s + "?)"
		}
	} else if f, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		msg = "flag " + flag(f) + " needs a value"
	}
	help := "bgmux --help"
	if c != nil && c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		help = "bgmux " + c.Command.Name + " --help"
	}
	return msg + "; see " + help
}

// manager builds the tasks.Manager from the global --config flag.
func manager(c *ucli.Context) (*tasks.Manager, error) {
	cfg, err := tasks.LoadConfig(tasks.FindConfig(c.String("config")))
	if err != nil {
		return nil, err
	}
	return tasks.NewManager(cfg)
}

// report prints err the bgmux way and returns the exit status: 0 success,
// 1 operation failed, 2 bad usage or unknown task.
func report(err error, stdio IO, asJSON bool) int {
	if err == nil {
		return 0
	}
	var st exitStatus
	if errors.As(err, &st) {
		return int(st)
	}
	var ee ucli.ExitCoder
	code, kind := 1, tasks.KindOf(err)
	var ue *usageError
	switch {
	case errors.As(err, &ue):
		code, kind = 2, tasks.KindInvalid
	case kind == tasks.KindNotFound || kind == tasks.KindInvalid || kind == tasks.KindAmbiguous:
		code = 2
	case errors.As(err, &ee) && ee.ExitCode() != 0:
		code = ee.ExitCode()
	}
	if st := tasks.StatusOf(err); st != 0 {
		code = st
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "bgmux: ") {
		msg = "bgmux: " + msg
	}
	fmt.Fprintln(stdio.Err, msg)
	if asJSON {
		writeJSON(stdio.Out, map[string]any{"error": map[string]any{"kind": kind, "message": strings.TrimPrefix(msg, "bgmux: ")}})
	}
	return code
}

// wantsJSON reports whether --json was given before any "--".
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--json" || a == "-json" || a == "--json=true" {
			return true
		}
	}
	return false
}
