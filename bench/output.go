package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// outputResult is what outputPair measured: wall seconds of the bgmux
// task, of the same command in a bare window and in a bare window with
// pipe-pane into cat > /dev/null (the floor of any capture through
// pipe-pane), the tmux server's CPU seconds during each, how many bgmux
// logs were complete, and the output's size.
type outputResult struct {
	bgmux, bare, piped          stats
	cpuBgmux, cpuBare, cpuPiped stats
	complete                    string
	size                        int64
}

// outputPair runs the output volume comparison cfg.outReps times.
func outputPair(e *env, cfg config) (res outputResult, err error) {
	var bs, ts, ps, cb, ct, cp []float64
	srv, err := e.tmux("display-message", "-p", "#{pid}")
	if err != nil {
		return res, err
	}
	spid := strings.TrimSpace(string(srv))
	// timed runs start, waits for marker m and returns the wall seconds
	// and the tmux server's CPU seconds meanwhile.
	timed := func(m string, start func() error) (float64, float64, error) {
		c0, err := procCPU(spid)
		if err != nil {
			return 0, 0, err
		}
		t0 := time.Now()
		if err := start(); err != nil {
			return 0, 0, err
		}
		if err := waitFile(m, 5*time.Minute); err != nil {
			return 0, 0, err
		}
		wall := time.Since(t0).Seconds()
		c1, err := procCPU(spid)
		return wall, c1 - c0, err
	}
	ok := 0
	for i := 0; i < cfg.outReps; i++ {
		mb := filepath.Join(e.root, fmt.Sprintf("done-b-%d", i))
		mt := filepath.Join(e.root, fmt.Sprintf("done-t-%d", i))
		mp := filepath.Join(e.root, fmt.Sprintf("done-p-%d", i))
		cmd := func(m string) string { return fmt.Sprintf("seq 1 %d; touch %s", cfg.outLines, m) }

		var id string
		w, c, err := timed(mb, func() error {
			var err error
			id, err = e.start("--name", fmt.Sprintf("out-%d", i), "--max-log-size", "1GiB", "--", cmd(mb))
			return err
		})
		if err != nil {
			return res, err
		}
		bs, cb = append(bs, w), append(cb, c)

		w, c, err = timed(mt, func() error {
			_, err := e.tmux("new-window", "-d", "-t", "="+e.raw+":", "sh -c "+shellQuote(cmd(mt)+"; sleep 100000"))
			return err
		})
		if err != nil {
			return res, err
		}
		ts, ct = append(ts, w), append(ct, c)

		// The command waits a moment, so that the pipe is in place
		// before the output starts (new-window and pipe-pane are one
		// tmux call, but the window's process may run first); the
		// harness does not count that wait.
		const settle = 300 * time.Millisecond
		win := fmt.Sprintf("piped-%d", i)
		w, c, err = timed(mp, func() error {
			_, err := e.tmux("new-window", "-d", "-t", "="+e.raw+":", "-n", win, "sh -c "+shellQuote(fmt.Sprintf("sleep %.1f; ", settle.Seconds())+cmd(mp)+"; sleep 100000"),
				";", "pipe-pane", "-O", "-t", "="+e.raw+":="+win, "exec cat > /dev/null")
			return err
		})
		if err != nil {
			return res, err
		}
		ps, cp = append(ps, w-settle.Seconds()), append(cp, c)

		if _, _, err := e.bgmux(nil, "wait", id, "--timeout", "120s"); err != nil {
			return res, err
		}
		n, sz, good, err := checkLog(e, id, cfg.outLines)
		if err != nil {
			return res, err
		}
		res.size = sz
		if good {
			ok++
		} else {
			fmt.Fprintf(os.Stderr, "bench: output run %d: log holds %d good lines of %d\n", i, n, cfg.outLines)
		}
		_, _, _ = e.bgmux(nil, "rm", "--force", id)
	}
	res.bgmux, res.bare, res.piped = summarize(bs), summarize(ts), summarize(ps)
	res.cpuBgmux, res.cpuBare, res.cpuPiped = summarize(cb), summarize(ct), summarize(cp)
	res.complete = fmt.Sprintf("%d/%d", ok, cfg.outReps)
	return res, nil
}

// procCPU is the user+system CPU time of process pid, in seconds.
func procCPU(pid string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: %q", pid, s)
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	k, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%s/stat: %q", pid, s)
	}
	return (u + k) / 100, nil // USER_HZ is 100 on Linux
}

// checkLog reads the task's raw log and reports whether it holds exactly the
// lines 1..want in order.
func checkLog(e *env, id string, want int) (good int, size int64, complete bool, err error) {
	return checkLogCtx(e, id, want, 0)
}

// checkLogCtx is checkLog bounded by limit (0: no bound).
func checkLogCtx(e *env, id string, want int, limit time.Duration) (good int, size int64, complete bool, err error) {
	ctx := runCtx
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(runCtx, limit)
		defer cancel()
	}
	inflight.RLock()
	defer inflight.RUnlock()
	cmd := exec.CommandContext(ctx, e.bin, "logs", id, "--raw")
	cmd.WaitDelay = 2 * time.Second
	cmd.Dir, cmd.Env = e.work, e.environ
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, false, err
	}
	if err := cmd.Start(); err != nil {
		return 0, 0, false, err
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	inOrder := true
	for sc.Scan() {
		l := sc.Bytes()
		size += int64(len(l)) + 1
		l = bytes.TrimRight(l, "\r")
		if !inOrder {
			continue
		}
		v, err := strconv.Atoi(string(l))
		if err != nil || v != good+1 {
			if good != want || len(l) > 0 {
				fmt.Fprintf(os.Stderr, "bench: log line after %d good lines: %q\n", good, l)
			}
			inOrder = false
			continue
		}
		good++
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return good, size, false, fmt.Errorf("bgmux logs --raw: still running after %v (killed)", limit)
		}
		return good, size, false, fmt.Errorf("bgmux logs --raw: %w", err)
	}
	return good, size, good == want, sc.Err()
}
