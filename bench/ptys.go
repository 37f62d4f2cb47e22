package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ensurePTYs makes room for need more pseudo-terminals: since issue 13
// each live task holds two (its own, read by its supervisor, and its
// tmux window's), and Linux allows kernel.pty.max of them (4096 by
// default; a devpts instance other than the host's gets that less
// kernel.pty.reserve, 1024). When the limit is too low and the bench
// runs as root it raises the limit for the run and puts it back at the
// end (the returned restore); the note says what it did.
func ensurePTYs(need int) (note string, restore func()) {
	restore = func() {}
	read := func(name string) int {
		b, err := os.ReadFile("/proc/sys/kernel/pty/" + name)
		if err != nil {
			return -1
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	max, nr, reserve := read("max"), read("nr"), read("reserve")
	if max < 0 || nr < 0 {
		return "", restore
	}
	if nr+need <= max-reserve {
		return "", restore
	}
	want := nr + need + reserve + 256
	if os.Geteuid() != 0 || os.WriteFile("/proc/sys/kernel/pty/max", []byte(strconv.Itoa(want)), 0o644) != nil {
		return fmt.Sprintf("Pseudo-terminals: the scale phase needs %d more (two per live task: its own and its window's), and kernel.pty.max is %d (%d in use, %d reserved); the bench could not raise it, so the scale rows may fail.", need, max, nr, reserve), restore
	}
	return fmt.Sprintf("Pseudo-terminals: each live task holds two (its own, since issue 13, and its tmux window's); the scale phase needs %d more than the %d in use, over kernel.pty.max %d less its %d reserved, so the bench raised kernel.pty.max to %d for the run and put it back after. A user running thousands of live tasks needs the same (`sysctl kernel.pty.max=%d`).", need, nr, max, reserve, want, want), func() {
		os.WriteFile("/proc/sys/kernel/pty/max", []byte(strconv.Itoa(max)), 0o644)
	}
}
