package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// startMany runs bgmux start with args(i) for i in 0..n-1, par at a
// time, and returns how many started.
func startMany(e *env, n, par int, args func(i int) []string) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	var next, done atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if _, err := e.start(args(int(i))...); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if c := done.Add(1); c%100 == 0 {
					fmt.Fprintf(os.Stderr, "bench:   %d/%d\n", c, n)
				}
			}
		}()
	}
	wg.Wait()
	return int(done.Load()), firstErr
}

// createGroupTasks starts n sleeping tasks spread over groups groups
// (g00, g01, ...), par at a time.
func createGroupTasks(e *env, n, groups, par int) (int, error) {
	return startMany(e, n, par, func(i int) []string {
		return []string{"--group", fmt.Sprintf("g%02d", i%groups), "--name", fmt.Sprintf("gt%d", i), "--", "sleep", "100000"}
	})
}

// countListed runs bgmux list --json with args and returns how many tasks
// it lists.
func countListed(e *env, args ...string) (int, error) {
	out, _, err := e.bgmux(nil, append([]string{"list", "--json"}, args...)...)
	if err != nil {
		return 0, err
	}
	var listed []json.RawMessage
	if err := json.Unmarshal(out, &listed); err != nil {
		return 0, fmt.Errorf("list --json %v: %w", args, err)
	}
	return len(listed), nil
}

// timeBgmux times n runs of one bgmux command.
func timeBgmux(e *env, n int, args ...string) (stats, error) {
	d, err := timeN(n, func(int) error { _, _, err := e.bgmux(nil, args...); return err })
	if err != nil {
		return stats{}, err
	}
	return ms(d), nil
}

// preparePrune makes n tasks that finish at once in group "done" and
// waits until all have exited. The bench does this before the scale
// phase: creating a window costs tmux more the more windows its server
// has, and these tasks only need to be there, finished, when prune runs.
func preparePrune(e *env, n, par int) error {
	if _, err := startMany(e, n, par, func(i int) []string {
		return []string{"--group", "done", "--name", fmt.Sprintf("d%d", i), "--", "true"}
	}); err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := countListed(e, "--group", "done", "--state", "exited")
		if err != nil {
			return err
		}
		if c == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prune: only %d of %d tasks exited within 2 minutes", c, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pruneAtScale times one prune of group "done" (made by preparePrune). It
// returns the time, the tmux calls prune made and how many tasks it
// removed.
func pruneAtScale(e *env, n int) (time.Duration, int, int, error) {
	t := time.Now()
	_, errOut, err := e.bgmux([]string{"BGMUX_DEBUG_TMUX=1"}, "prune", "--group", "done")
	d := time.Since(t)
	if err != nil {
		return 0, 0, 0, err
	}
	left, err := countListed(e, "--group", "done")
	if err != nil {
		return 0, 0, 0, err
	}
	return d, tmuxCalls(errOut), n - left, nil
}

// awaitLine reads lines until one holds want.
func awaitLine(lines <-chan string, want string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return fmt.Errorf("logs --follow ended before %s", want)
			}
			if strings.Contains(l, want) {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("logs --follow: %s not returned within %v", want, limit)
		}
	}
}
