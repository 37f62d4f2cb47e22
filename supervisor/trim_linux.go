package supervisor

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimMemory hands back what a waiting supervisor does not need: the
// garbage of its start-up, and its page-table entries for the read-only
// pages of its own executable. Those pages are shared with every other
// bgmux process and stay in the page cache; a supervisor that mostly
// waits touches few of them again, and faults those back in from the
// cache. Only mappings without write permission are dropped, so no data
// can be lost: a private read-only mapping refaults with the file's
// contents, which is what it held.
func trimMemory() {
	debug.FreeOSMemory()
	exe, err := os.Executable()
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-0089c000 r-xp 00000000 fd:01 123 /path/to/bgmux
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED)
	}
}
