package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// startupProfile explains the cost of one short bgmux process: it builds
// a Go program that does nothing (the floor any Go binary pays to start
// here) and, for it, for `bgmux status TASK` and for `tmux
// display-message -p`, measures the wall time and the minor page faults
// of n runs. On a virtual machine a page fault is what dominates a short
// process: the faults say why bgmux costs what it does.
func startupProfile(e *env, id string, n int) ([]row, error) {
	dir := filepath.Join(e.root, "floor")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o600); err != nil {
		return nil, err
	}
	floor := filepath.Join(dir, "floor")
	build := exec.Command("go", "build", "-o", floor, src)
	build.Dir, build.Stderr = dir, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build the Go floor program: %w", err)
	}
	type probe struct {
		name string
		argv []string
	}
	probes := []probe{
		{"`bgmux status TASK`", []string{e.bin, "status", id}},
		{"`tmux display-message -p '#{pid}'`", []string{"tmux", "-L", e.socket, "-f", os.DevNull, "display-message", "-p", "#{pid}"}},
		{"Go program with an empty main (the floor of any Go binary)", []string{floor}},
	}
	walls := make([][]time.Duration, len(probes))
	faults := make([][]float64, len(probes))
	for i := 0; i < n; i++ { // interleaved, so drift hits all
		for p, pr := range probes {
			cmd, done := command(pr.argv[0], pr.argv[1:]...)
			cmd.Dir, cmd.Env = e.work, e.environ
			t := time.Now()
			err := cmd.Run()
			d := time.Since(t)
			done()
			if err != nil {
				return nil, fmt.Errorf("%v: %w", pr.argv, err)
			}
			walls[p] = append(walls[p], d)
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				faults[p] = append(faults[p], float64(ru.Minflt))
			}
		}
	}
	var rows []row
	for p, pr := range probes {
		w, f := ms(walls[p]), summarize(faults[p])
		rows = append(rows, row{"start-up profile: " + pr.name, w.fmt("ms") + "; " + fmt.Sprintf("%.0f minor faults", f.med), "–", "–", "–", "(explains the status ratio)"})
	}
	return rows, nil
}
