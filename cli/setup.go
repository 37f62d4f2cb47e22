package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/integrations"
	"github.com/bgmux/bgmux/integrations/claude"
	"github.com/bgmux/bgmux/integrations/opencode"
	"github.com/bgmux/bgmux/tasks"
)

// setupOptions are the parsed flags of setup opencode and setup claude,
// and the caller's directory and environment they apply to.
type setupOptions struct {
	global, print, hook bool // hook: setup claude only
	bin                 string
	dir                 string
	getenv              func(string) string
}

func setupCommand(stdio IO, runOpencodeF, runClaudeF func(*setupOptions) error) *ucli.Command {
	common := func(o *setupOptions) []ucli.Flag {
		return []ucli.Flag{
			&ucli.BoolFlag{Name: "global", Usage: "the user's configuration instead of the project's", Destination: &o.global},
			&ucli.BoolFlag{Name: "print", Usage: "show what would be written, write nothing", Destination: &o.print},
			&ucli.StringFlag{Name: "bin", Usage: "the bgmux command the configuration runs (default: the absolute path of this bgmux)", Destination: &o.bin},
		}
	}
	usage := func(c *ucli.Context, err error, _ bool) error {
		msg := usageMessage(c, err)
		return &usageError{msg: strings.Replace(msg, "see bgmux "+c.Command.Name+" --help", "see bgmux setup "+c.Command.Name+" --help", 1)}
	}
	// action checks o, then runs runF or, when it is nil, run.
	action := func(o *setupOptions, runF, run func(*setupOptions) error) ucli.ActionFunc {
		return func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: "setup " + c.Command.Name + " takes no arguments; see bgmux setup " + c.Command.Name + " --help"}
			}
			if err := o.check(c, stdio); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return run(o)
		}
	}
	oc, cl := &setupOptions{}, &setupOptions{}
	return &ucli.Command{
		Name:  "setup",
		Usage: "configure an agent to use bgmux: setup opencode, setup claude",
		Subcommands: []*ucli.Command{{
			Name:  "opencode",
			Usage: "write the bgmux MCP entry into opencode.json and the plugin that tells a session when its tasks end",
			Description: "Merges mcp.bgmux into the project's opencode.json (or opencode.jsonc; --global:\n" +
				"$XDG_CONFIG_HOME/opencode/), keeping every other key, its order and comments, and writes\n" +
				"the plugin to .opencode/plugin/bgmux.js (--global: plugin/bgmux.js there), which OpenCode\n" +
				"loads by itself. Running it again changes nothing.",
			Flags:        common(oc),
			OnUsageError: usage,
			Action:       action(oc, runOpencodeF, func(o *setupOptions) error { return runSetupOpencode(stdio, o) }),
		}, {
			Name:  "claude",
			Usage: "register bgmux as Claude Code's MCP server (and, with --hook, a SessionStart hook)",
			Description: "Merges mcpServers.bgmux into the project's .mcp.json (what claude mcp add --scope project\n" +
				"writes); --global runs claude mcp add --scope user instead. --hook also adds a SessionStart\n" +
				"hook (resume, compact) to .claude/settings.json (--global: ~/.claude/settings.json) that runs\n" +
				"bgmux events --new --reader claude, so a resumed or compacted session is told what happened\n" +
				"to its tasks meanwhile. Running it again changes nothing.",
			Flags: append(common(cl),
				&ucli.BoolFlag{Name: "hook", Usage: "also add the SessionStart hook", Destination: &cl.hook}),
			OnUsageError: usage,
			Action:       action(cl, runClaudeF, func(o *setupOptions) error { return runSetupClaude(stdio, o) }),
		}},
	}
}

// runSetupOpencode is setup opencode: it writes (or shows) the files.
func runSetupOpencode(stdio IO, o *setupOptions) error {
	files, err := opencode.Plan(opencode.Options{Global: o.global, Dir: o.dir, Getenv: o.getenv, Bin: o.bin})
	if err != nil {
		return err
	}
	changed, err := applySetup(stdio, files, o.print)
	if err != nil || o.print {
		return err
	}
	if changed {
		fmt.Fprintln(stdio.Out, "restart OpenCode to load it; a session is told when its tasks end in the TUI and in opencode serve (not in a plain opencode run)")
	} else {
		fmt.Fprintln(stdio.Out, "bgmux setup opencode: already set up, nothing changed")
	}
	return nil
}

// runSetupClaude is setup claude: it writes (or shows) the files, and
// with --global registers bgmux with claude mcp add.
func runSetupClaude(stdio IO, o *setupOptions) error {
	files, err := claude.Plan(claude.Options{Global: o.global, Dir: o.dir, Getenv: o.getenv, Bin: o.bin, Hook: o.hook})
	if err != nil {
		return err
	}
	changed := false
	if o.global {
		if changed, err = claudeMCPAdd(stdio, o.bin, o.print); err != nil {
			return err
		}
	}
	fileChanged, err := applySetup(stdio, files, o.print)
	if err != nil || o.print {
		return err
	}
	if !changed && !fileChanged {
		fmt.Fprintln(stdio.Out, "bgmux setup claude: already set up, nothing changed")
	}
	return nil
}

// check completes the options: the caller's environment and directory,
// and --bin (default: this bgmux).
func (o *setupOptions) check(c *ucli.Context, stdio IO) error {
	env := map[string]string{}
	for _, kv := range stdio.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	o.getenv = func(k string) string { return env[k] }
	dir, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("cannot tell the current directory: %w", err)
	}
	o.dir = dir
	if c.IsSet("bin") && strings.TrimSpace(o.bin) == "" {
		return &usageError{msg: "--bin is empty; give the bgmux command to run (a path, or bgmux to look it up on PATH)"}
	}
	if o.bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("cannot tell where this bgmux is (%v); give --bin", err)
		}
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		o.bin = exe
	}
	return nil
}

// applySetup writes the files that change (or, with print, shows them) and
// says what it did; it reports whether anything changed.
func applySetup(stdio IO, files []*integrations.File, print bool) (bool, error) {
	changed := false
	for _, f := range files {
		if !f.Changed() {
			fmt.Fprintf(stdio.Out, "%s: already set up\n", f.Path)
			continue
		}
		changed = true
		if print {
			fmt.Fprintf(stdio.Out, "would write %s: %s\n%s", f.Path, f.What, f.New)
			if !strings.HasSuffix(string(f.New), "\n") {
				fmt.Fprintln(stdio.Out)
			}
			continue
		}
		if err := integrations.Write(f); err != nil {
			return changed, tasks.Errorf(tasks.KindFailed, "%v", err)
		}
		fmt.Fprintf(stdio.Out, "wrote %s: %s\n", f.Path, f.What)
	}
	return changed, nil
}

// claudeMCPAdd registers bgmux for the user with `claude mcp add --scope
// user`, unless `claude mcp get bgmux` finds it; with print, or without
// claude on PATH, it prints the command line instead.
func claudeMCPAdd(stdio IO, bin string, print bool) (bool, error) {
	args := claude.MCPAddArgs("user", bin)
	line := "claude " + strings.Join(args, " ")
	exe, err := exec.LookPath("claude")
	if err != nil {
		fmt.Fprintf(stdio.Out, "claude is not on PATH; to register bgmux for every project, run:\n  %s\n", line)
		return false, nil
	}
	if exec.Command(exe, "mcp", "get", "bgmux").Run() == nil {
		fmt.Fprintln(stdio.Out, "claude: bgmux is already registered (claude mcp get bgmux)")
		return false, nil
	}
	if print {
		fmt.Fprintf(stdio.Out, "would run: %s\n", line)
		return true, nil
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = stdio.Out, stdio.Err
	if err := cmd.Run(); err != nil {
		return false, tasks.Errorf(tasks.KindFailed, "%s failed: %v", line, err)
	}
	fmt.Fprintf(stdio.Out, "ran: %s\n", line)
	return true, nil
}
