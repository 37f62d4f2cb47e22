package cli

import (
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// permuteArgs moves flags that follow positional arguments in front of
// them, so "bgmux status web --json" works like "bgmux status --json web".
// Nothing after "--" is touched, and for start (whose positionals are the
// command to run) nothing after the first positional is either.
func permuteArgs(app *ucli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "--" {
		if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil || cmd.Name == "start" || len(cmd.Subcommands) > 0 {
		return args
	}
	head := append([]string{}, args[:i+1]...)
	var flags, pos []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		if a == "--" {
			pos = append(pos, rest[j+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			if takesValue(cmd.Flags, a) && j+1 < len(rest) {
				flags = append(flags, rest[j+1])
				j++
			}
			continue
		}
		pos = append(pos, a)
	}
	out := append(head, flags...)
	if len(pos) > 0 {
		out = append(out, "--")
	}
	return append(out, pos...)
}

// takesValue reports whether the flag token a (without "=value") names a
// flag that consumes the next argument.
func takesValue(flags []ucli.Flag, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	name := strings.TrimLeft(a, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, ok := f.(*ucli.BoolFlag); ok {
				return false
			}
			return true
		}
	}
	return false
}

// resolveAll resolves every TASK in refs before anything is done to any,
// so one bad TASK changes nothing; a task named twice is listed once.
func resolveAll(m *tasks.Manager, refs []string) ([]*tasks.Task, error) {
	var ts []*tasks.Task
	seen := map[string]bool{}
	for _, ref := range refs {
		t, err := m.Get(ref)
		if err != nil {
			return nil, err
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			ts = append(ts, t)
		}
	}
	return ts, nil
}
