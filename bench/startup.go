package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
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
	inits, err := initProfile(e, id, n)
	if err != nil {
		return nil, err
	}
	return append(rows, inits), nil
}

// initProfile runs `bgmux status TASK` n times with GODEBUG=inittrace=1
// and reports the median time of all package initialisation (what runs
// before main) and the packages that take most of it.
func initProfile(e *env, id string, n int) (row, error) {
	per := map[string][]float64{}
	var totals []float64
	for i := 0; i < n; i++ {
		_, errOut, err := e.bgmux([]string{"GODEBUG=inittrace=1"}, "status", id)
		if err != nil {
			return row{}, err
		}
		total := 0.0
		for _, l := range strings.Split(string(errOut), "\n") {
			// init gopkg.in/yaml%2ev3 @8.2 ms, 1.1 ms clock, 25736 bytes, 276 allocs
			f := strings.Fields(l)
			if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
				continue
			}
			v, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				return row{}, fmt.Errorf("inittrace line %q: %w", l, err)
			}
			per[f[1]] = append(per[f[1]], v)
			total += v
		}
		totals = append(totals, total)
	}
	type pkg struct {
		name string
		med  float64
	}
	var pkgs []pkg
	for name, vs := range per {
		pkgs = append(pkgs, pkg{strings.ReplaceAll(name, "%2e", "."), summarize(vs).med})
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].med > pkgs[j].med })
	var top []string
	for _, p := range pkgs[:min(4, len(pkgs))] {
		top = append(top, fmt.Sprintf("%s %.2f ms", p.name, p.med))
	}
	t := summarize(totals)
	return row{"start-up profile: package initialisation in `bgmux status TASK` (GODEBUG=inittrace=1)",
		fmt.Sprintf("%.2f ms (%.2f–%.2f) in all; most: %s", t.med, t.p10, t.p90, strings.Join(top, ", ")), "–", "–", "–", "(explains the status ratio)"}, nil
}
