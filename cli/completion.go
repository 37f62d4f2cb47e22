package cli

import (
	"fmt"
	"sort"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// completeCommand is the hidden command the completion scripts call with
// the words typed so far (the last one being completed, maybe empty); it
// prints the candidates, one a line.
const completeCommand = "__complete"

// completionScripts are what `bgmux completion SHELL` prints: each asks
// `bgmux __complete WORDS...` for the candidates of the word at the
// cursor.
var completionScripts = map[string]string{
	"bash": `# bgmux completion for bash: eval "$(bgmux completion bash)"
_bgmux() {
	local IFS=$'\n'
	COMPREPLY=($(compgen -W "$(bgmux __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _bgmux bgmux
`,
	"zsh": `#compdef bgmux
# bgmux completion for zsh: eval "$(bgmux completion zsh)" (after compinit)
_bgmux() {
	local -a candidates
	candidates=("${(@f)$(bgmux __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	compadd -a candidates
}
compdef _bgmux bgmux
`,
	"fish": `# bgmux completion for fish: bgmux completion fish | source
complete -c bgmux -f -a '(bgmux __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`,
}

// completionOptions are the parsed argument of completion.
type completionOptions struct {
	shell string
}

func completionCommand(stdio IO, runF func(*completionOptions) error) *ucli.Command {
	o := &completionOptions{}
	return &ucli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish (task names complete from the current group)",
		ArgsUsage: "bash|zsh|fish",
		Description: `bash:  eval "$(bgmux completion bash)"   (in ~/.bashrc)
zsh:   eval "$(bgmux completion zsh)"    (in ~/.zshrc, after compinit)
fish:  bgmux completion fish | source    (in ~/.config/fish/config.fish)`,
		Action: func(c *ucli.Context) error {
			if _, ok := completionScripts[c.Args().First()]; c.NArg() != 1 || !ok {
				return &usageError{msg: "completion takes one shell: bash, zsh or fish"}
			}
			o.shell = c.Args().First()
			if runF != nil {
				return runF(o)
			}
			return runCompletion(stdio, o)
		},
	}
}

// runCompletion prints the shell's script; it needs no Manager.
func runCompletion(stdio IO, o *completionOptions) error {
	fmt.Fprint(stdio.Out, completionScripts[o.shell])
	return nil
}

// complete prints the candidates for the last of words (the words after
// "bgmux"): a command name, a flag of the command, or a task name of the
// current group for a command that takes a TASK. It never fails: no
// candidates is an answer.
func complete(words []string, stdio IO) int {
	if len(words) == 0 {
		words = []string{""}
	}
	app := newApp(stdio)
	cur, before := words[len(words)-1], words[:len(words)-1]
	var cmd *ucli.Command
	var args []string
	for i := 0; i < len(before); i++ {
		w := before[i]
		switch {
		case cmd == nil && strings.HasPrefix(w, "-"):
			if takesValue(app.Flags, w) {
				i++
			}
		case cmd == nil:
			if cmd = app.Command(w); cmd == nil {
				return 0
			}
		default:
			args = append(args, w)
		}
	}
	var cands []string
	switch {
	case cmd == nil && strings.HasPrefix(cur, "-"):
		cands = flagNames(app.Flags)
	case cmd == nil:
		for _, c := range app.Commands {
			if !c.Hidden {
				cands = append(cands, c.Name)
			}
		}
	case strings.HasPrefix(cur, "-"):
		cands = flagNames(cmd.Flags)
	case len(args) > 0 && strings.HasPrefix(args[len(args)-1], "-") && takesValue(cmd.Flags, args[len(args)-1]):
		// A flag's value: nothing to offer (the shell's default applies).
	case cmd.Name == "completion":
		cands = []string{"bash", "fish", "zsh"}
	case strings.Contains(cmd.ArgsUsage, "TASK"):
		cands = taskNames()
	}
	sort.Strings(cands)
	for _, c := range cands {
		if strings.HasPrefix(c, cur) {
			fmt.Fprintln(stdio.Out, c)
		}
	}
	return 0
}

// flagNames are the long names of flags, as typed ("--name"), and --help.
func flagNames(flags []ucli.Flag) []string {
	out := []string{"--help"}
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) > 1 {
				out = append(out, "--"+n)
			}
		}
	}
	return out
}

// taskNames are the names of the current group's tasks (the config found
// from the current directory decides the state directory).
func taskNames() []string {
	cfg, err := tasks.LoadConfig(tasks.FindConfig(""))
	if err != nil {
		return nil
	}
	m, err := tasks.NewManager(cfg)
	if err != nil {
		return nil
	}
	ts, _, err := m.List(tasks.ListOptions{})
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range ts {
		if !seen[t.Name] {
			seen[t.Name] = true
			out = append(out, t.Name)
		}
	}
	return out
}
