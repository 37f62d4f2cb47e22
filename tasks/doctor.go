package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/bgmux/bgmux/tmuxctl"
)

// Check is one doctor finding: what was checked, whether it is fine, and
// how to fix it when it is not.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Fix says how to fix it; the JSON has null when there is nothing
	// to fix.
	Fix string `json:"fix"`
}

// MarshalJSON writes the check with fix null when it is empty.
func (c Check) MarshalJSON() ([]byte, error) {
	var fix *string
	if c.Fix != "" {
		fix = &c.Fix
	}
	return json.Marshal(struct {
		Name   string  `json:"name"`
		OK     bool    `json:"ok"`
		Detail string  `json:"detail"`
		Fix    *string `json:"fix"`
	}{c.Name, c.OK, c.Detail, fix})
}

// MinTmux is the oldest tmux bgmux supports.
const MinTmux = "3.2"

// Doctor checks tmux, its version, the socket and the state directory.
func (m *Manager) Doctor(ctx context.Context) []Check {
	var out []Check
	v, err := tmuxctl.Version(ctx)
	switch {
	case err != nil:
		out = append(out, Check{Name: "tmux", Detail: err.Error(), Fix: "install tmux 3.2 or newer: apt-get install tmux (Debian/Ubuntu), brew install tmux (macOS)"})
	case !versionAtLeast(v, MinTmux):
		out = append(out, Check{Name: "tmux", Detail: "tmux " + v + " is older than " + MinTmux, Fix: "upgrade tmux to " + MinTmux + " or newer"})
	default:
		out = append(out, Check{Name: "tmux", OK: true, Detail: "tmux " + v})
	}
	sock := Check{Name: "socket", Detail: m.Tmux.SocketPath()}
	if err == nil {
		info, ierr := m.Tmux.ServerInfo(ctx)
		switch {
		case errors.Is(ierr, tmuxctl.ErrNoServer):
			sock.OK = true
			sock.Detail += ": no server yet; bgmux start will start one"
			if st, serr := os.Stat(m.Tmux.SocketPath()); serr == nil && st.Mode()&os.ModeSocket != 0 {
				// tmux replaces a socket nobody listens on when it starts
				// a server, so this is worth saying but not a failure.
				sock.Detail = m.Tmux.SocketPath() + ": a stale socket left by a dead server; tmux replaces it on the next bgmux start"
			}
		case ierr != nil:
			sock.Detail += ": " + ierr.Error()
			sock.Fix = "check the socket's permissions, or restart the server: " + m.Tmux.CommandLine() + " kill-server"
		default:
			sock.OK = true
			sock.Detail = fmt.Sprintf("%s: server pid %d, tmux %s", info.Socket, info.PID, info.Version)
		}
	} else {
		sock.Detail += ": not checked without tmux"
		sock.Fix = "install tmux first"
	}
	out = append(out, sock)
	out = append(out, m.checkStateDir())
	return out
}

func (m *Manager) checkStateDir() Check {
	c := Check{Name: "state_dir", Detail: m.Store.Dir}
	fix := "make it writable by you with mode 0700 (chmod 700 " + tmuxctl.ShellQuote(m.Store.Dir) + "), or set BGMUX_STATE_DIR to another directory"
	if err := m.Store.Init(); err != nil {
		c.Detail += ": " + err.Error()
		c.Fix = fix
		return c
	}
	st, err := os.Stat(m.Store.Dir)
	if err != nil {
		c.Detail += ": " + err.Error()
		c.Fix = fix
		return c
	}
	if st.Mode().Perm() != 0o700 {
		c.Detail += fmt.Sprintf(": mode %04o lets other users read task commands and output", st.Mode().Perm())
		c.Fix = "chmod 700 " + tmuxctl.ShellQuote(m.Store.Dir)
		return c
	}
	f, err := os.CreateTemp(m.Store.Dir, ".doctor-*")
	if err != nil {
		c.Detail += ": not writable: " + err.Error()
		c.Fix = fix
		return c
	}
	f.Close()
	os.Remove(f.Name())
	ids, _ := m.Store.IDs()
	c.OK = true
	c.Detail += fmt.Sprintf(": mode 0700, writable, %d tasks", len(ids))
	if entries, _ := filepath.Glob(filepath.Join(m.Store.Dir, "tasks", "*", SpecFile)); len(entries) > 0 {
		if st, err := os.Stat(entries[0]); err == nil && st.Mode().Perm()&0o077 != 0 {
			c.OK = false
			c.Detail += fmt.Sprintf("; %s has mode %04o", entries[0], st.Mode().Perm())
			c.Fix = "chmod -R go-rwx " + tmuxctl.ShellQuote(m.Store.Dir)
		}
	}
	return c
}

var versionRE = lazyRegexp(`(\d+)\.(\d+)`)

// versionAtLeast compares tmux version strings such as "3.3a" and
// "next-3.4" by their major.minor numbers.
func versionAtLeast(have, want string) bool {
	h, w := versionRE().FindStringSubmatch(have), versionRE().FindStringSubmatch(want)
	if h == nil || w == nil {
		return false
	}
	hm, _ := strconv.Atoi(h[1])
	hn, _ := strconv.Atoi(h[2])
	wm, _ := strconv.Atoi(w[1])
	wn, _ := strconv.Atoi(w[2])
	return hm > wm || hm == wm && hn >= wn
}

// TmuxVersion is the installed tmux's version ("3.3a"), or "" when tmux
// is missing.
func TmuxVersion(ctx context.Context) string {
	v, err := tmuxctl.Version(ctx)
	if err != nil {
		return ""
	}
	return v
}
