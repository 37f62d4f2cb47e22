package testbin

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RandHex returns n random bytes in hex (for unique socket names).
func RandHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Poll checks cond with a short backoff until it is true or timeout passes.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		<-time.After(delay)
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
}

// PIDAlive reports whether pid exists and is not a zombie.
func PIDAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z'
}

// Supervisors lists live processes whose command line names the state
// dir state: the supervisors of a test's tasks.
func Supervisors(state string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err == nil && bytes.Contains(cmd, []byte(state)) && PIDAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Reap ends what the tasks of state dir state left running and waits for
// their supervisors to finish writing, so the test's temp dirs can be
// removed: every recorded process group gets SIGKILL, and the supervisors
// are waited for, then killed.
func Reap(state string) {
	runs, _ := filepath.Glob(filepath.Join(state, "tasks", "*", "run"))
	for _, p := range runs {
		var r struct {
			PGID int `json:"pgid"`
		}
		if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &r) == nil && r.PGID > 1 {
			syscall.Kill(-r.PGID, syscall.SIGKILL)
		}
	}
	if !Poll(10*time.Second, func() bool { return len(Supervisors(state)) == 0 }) {
		for _, pid := range Supervisors(state) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		Poll(5*time.Second, func() bool { return len(Supervisors(state)) == 0 })
	}
}
