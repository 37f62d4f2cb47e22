package tmuxctl

import (
	"fmt"
	"unicode"
)

// maxSocketName is more than a socket's path ($TMUX_TMPDIR/tmux-UID/NAME)
// could use of the 108 bytes a unix socket address holds.
const maxSocketName = 100

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
		if r == '/' || unicode.IsControl(r) {
			return fmt.Errorf("tmux socket name %q has a %q; a socket name is a plain file name", name, r)
		}
	}
	return nil
}
