package proc

import (
	"strconv"

	"golang.org/x/sys/unix"
)

func hostBootID() string {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return ""
	}
	return strconv.FormatInt(int64(tv.Sec), 10) + "." + strconv.FormatInt(int64(tv.Usec), 10)
}

// StartTime reads the start time (microseconds since the epoch) and
// zombie state of pid through sysctl kern.proc.pid.
func StartTime(pid int) (start uint64, zombie bool, ok bool) {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || kp.Proc.P_pid != int32(pid) {
		return 0, false, false
	}
	tv := kp.Proc.P_starttime
	const szomb = 5
	return uint64(tv.Sec)*1e6 + uint64(tv.Usec), kp.Proc.P_stat == szomb, true
}

// groupHasLive reports whether a process of group pgid other than a
// zombie exists. When the kernel cannot be asked it says yes, so that
// callers keep treating the group as alive.
func groupHasLive(pgid int) bool {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.pgrp", pgid)
	if err != nil {
		return true
	}
	const szomb = 5
	for _, kp := range kps {
		if kp.Proc.P_stat != szomb {
			return true
		}
	}
	return false
}
