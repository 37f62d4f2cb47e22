package tmuxctl

import "strings"

// Arg protects a literal argument from tmux's command-list parser: an
// argument ending in ";" would otherwise end the command there. tmux reads
// a trailing "\;" as a literal ";".
func Arg(s string) string {
	if strings.HasSuffix(s, ";") {
		return s[:len(s)-1] + `\;`
	}
	return s
}

// Literal protects an argument that tmux expands as a format (window and
// session names, start directories): "#" is doubled so
// "#{...}" is kept as typed, and a trailing ";" is escaped as in Arg.
func Literal(s string) string {
	return Arg(strings.ReplaceAll(s, "#", "##"))
}
