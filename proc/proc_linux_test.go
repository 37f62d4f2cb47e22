package proc

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	cases := []struct {
		line   string
		start  uint64
		zombie bool
		ok     bool
	}{
		{"123 (sleep) S 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10\n", 98765, false, true},
		{"123 (a) b (c) Z 1 2) Z 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 42 1000 10\n", 42, true, true},
		{"7 (x  y) X 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 1", 5, true, true},
		{"7 (short) S 1 2 3\n", 0, false, false},
		{"no parenthesis at all", 0, false, false},
		{"7 (bad) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 notanumber 1 1", 0, false, false},
	}
	for _, c := range cases {
		start, zombie, ok := parseProcStat([]byte(c.line))
		if start != c.start || zombie != c.zombie || ok != c.ok {
			t.Errorf("parseProcStat(%q) = %d, %v, %v; want %d, %v, %v", c.line, start, zombie, ok, c.start, c.zombie, c.ok)
		}
	}
}

// TestProcStartTimeMatchesStat compares StartTime with field 22 of
// /proc/PID/stat split the plain way, for a live child with a command
// name holding a space and a parenthesis.
func TestProcStartTimeMatchesStat(t *testing.T) {
	exe := t.TempDir() + "/odd) na me"
	if err := os.Symlink("/bin/sleep", exe); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	want, _ := strconv.ParseUint(f[19], 10, 64)
	start, zombie, ok := StartTime(cmd.Process.Pid)
	if !ok || zombie || start != want || want == 0 {
		t.Fatalf("StartTime = %d, %v, %v; want %d from %q", start, zombie, ok, want, s)
	}
	if _, _, ok := StartTime(1 << 30); ok {
		t.Fatalf("StartTime of a pid that cannot exist says ok")
	}
}
