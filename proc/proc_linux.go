package proc

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/bgmux/bgmux/fileutil"
)

func hostBootID() string {
	b, err := fileutil.ReadSmallFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return trimNL(string(b))
}

// StartTime reads the start time (clock ticks since boot) and zombie
// state of pid from /proc. It allocates nothing: list calls it for every
// task.
func StartTime(pid int) (start uint64, zombie bool, ok bool) {
	var path [32]byte
	var buf [1024]byte
	p := append(append(append(path[:0], "/proc/"...), strconv.Itoa(pid)...), "/stat"...)
	b, err := fileutil.ReadSmallFileInto(string(p), buf[:0])
	if err != nil {
		return 0, false, false
	}
	return parseProcStat(b)
}

// parseProcStat takes the state (field 3) and starttime (field 22) from
// the text of /proc/PID/stat. The command name (field 2) is in
// parentheses and may hold spaces and parentheses itself, so fields are
// counted from its last ")".
func parseProcStat(b []byte) (start uint64, zombie bool, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false, false
	}
	field := 2
	var state byte
	for rest := b[i+1:]; len(rest) > 0; {
		rest = bytes.TrimLeft(rest, " \n")
		if len(rest) == 0 {
			break
		}
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		field++
		switch field {
		case 3:
			state = rest[0]
		case 22:
			st, err := strconv.ParseUint(string(rest[:end]), 10, 64)
			if err != nil {
				return 0, false, false
			}
			return st, state == 'Z' || state == 'X', true
		}
		rest = rest[end:]
	}
	return 0, false, false
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
		b, err := fileutil.ReadSmallFile("/proc/" + name + "/stat")
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
