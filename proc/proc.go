package proc

import (
	"os"
	"strings"
	"sync"
	"syscall"
)

// BootIDEnv, when set, is the boot id BootID reports: tests present a new
// boot (a simulated reboot) with it.
const BootIDEnv = "BGMUX_BOOT_ID"

// BootID identifies the current boot of the host; it changes on reboot.
func BootID() string {
	if id := os.Getenv(BootIDEnv); id != "" {
		return id
	}
	bootOnce.Do(func() { bootID = hostBootID() })
	return bootID
}

var (
	bootOnce sync.Once
	bootID   string
)

// Alive reports whether pid is a live (non-zombie) process that
// started at start (as recorded by Start); start 0 skips that check.
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, zombie, ok := StartTime(pid)
	if !ok || zombie {
		return false
	}
	return start == 0 || st == start
}

// GroupAlive reports whether any live process is left in process group
// pgid. Zombies do not count: a member orphaned by its parent's death
// waits for init to reap it, and some inits (a container's PID 1) reap
// late or never, yet signalling the group still "succeeds" for it.
func GroupAlive(pgid int) bool {
	if pgid <= 1 {
		return false
	}
	if err := syscall.Kill(-pgid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	if _, zombie, ok := StartTime(pgid); ok && !zombie {
		return true // the leader itself
	}
	return groupHasLive(pgid)
}

// Start returns pid's start time in the platform's units, 0 if unknown.
func Start(pid int) uint64 {
	st, _, ok := StartTime(pid)
	if !ok {
		return 0
	}
	return st
}

func trimNL(s string) string { return strings.TrimSpace(s) }
