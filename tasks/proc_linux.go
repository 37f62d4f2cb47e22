package tasks

import (
	"os"
	"strconv"
	"strings"
)

func hostBootID() string {
	b, err := readSmallFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return trimNL(string(b))
}

// procStartTime reads the start time (clock ticks since boot) and zombie
// state of pid from /proc.
func procStartTime(pid int) (start uint64, zombie bool, ok bool) {
	b, err := readSmallFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false, false
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); starttime is field 22, i.e. f[19].
	if len(f) < 20 {
		return 0, false, false
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, false, false
	}
	return st, f[0] == "Z" || f[0] == "X", true
}

// groupHasLive reports whether a process of group pgid other than a
// zombie exists, scanning /proc. When /proc cannot be read it says yes,
// so that callers keep treating the group as alive.
func groupHasLive(pgid int) bool {
	d, err := os.Open("/proc")
	if err != nil {
		return true
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return true
	}
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		b, err := readSmallFile("/proc/" + name + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		// f[0] is field 3 (state), f[2] field 5 (pgrp).
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			return true
		}
	}
	return false
}
