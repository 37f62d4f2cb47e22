package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// memStats is supervisor memory in MB.
type memStats struct{ rss, pss, uss stats }

// supervisorMemory samples RSS, PSS and private memory (MB) of every live
// supervisor of this run.
func supervisorMemory(e *env) (memStats, int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return memStats{}, 0, err
	}
	var rs, ps, us []float64
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmd), "\x00")
		if len(args) < 2 || args[0] != e.bin || args[1] != "__supervise" || !strings.Contains(string(cmd), e.state) {
			continue
		}
		roll, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		r, p := rollupField(roll, "Rss:"), rollupField(roll, "Pss:")
		u := rollupField(roll, "Private_Clean:") + rollupField(roll, "Private_Dirty:")
		if r > 0 {
			rs = append(rs, r/1024)
			ps = append(ps, p/1024)
			us = append(us, u/1024)
		}
	}
	if len(rs) == 0 {
		return memStats{}, 0, errors.New("no supervisor processes found")
	}
	return memStats{summarize(rs), summarize(ps), summarize(us)}, len(rs), nil
}

// rollupField is a kB value from smaps_rollup.
func rollupField(b []byte, key string) float64 {
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key) {
			f := strings.Fields(l)
			if len(f) >= 2 {
				v, _ := strconv.ParseFloat(f[1], 64)
				return v
			}
		}
	}
	return 0
}
