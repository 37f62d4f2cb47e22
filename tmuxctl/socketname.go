package tmuxctl

import (
	"fmt"
	"unicode"
)

// maxSocketName keeps the socket's path ($TMUX_TMPDIR/tmux-UID/NAME)
// within the 108 bytes a unix socket address may hold.
const maxSocketName = 64

// CheckSocketName reports why name cannot be a -L socket name, or nil.
// tmux puts the socket at $TMUX_TMPDIR/tmux-UID/NAME: a name with a slash,
// or "." or "..", would put it (and the server bgmux talks to) somewhere
// else. "" and "default" mean the user's own server.
func CheckSocketName(name string) error {
	switch {
	case name == "" || name == UserSocket:
		return nil
	case name == "." || name == "..":
		return fmt.Errorf("tmux socket name %q names a directory, not a socket", name)
	case len(name) > maxSocketName:
		return fmt.Errorf("tmux socket name %q is longer than %d bytes", name, maxSocketName)
	}
	for _, r := range name {
		if r == '/' || r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Errorf("tmux socket name %q has a %q; use letters, digits, '.', '-' and '_'", name, r)
		}
	}
	return nil
}
