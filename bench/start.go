package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// startPair times bgmux start and raw new-window, interleaved. It also
// returns, for the profile of start, how long the one tmux process that
// each start ran took (from BGMUX_DEBUG_TMUX=1, which bgmux prints after
// the call).
func startPair(n int, e *env, prefix string) (bg, raw, inner stats, err error) {
	var b, t, in []time.Duration
	for i := 0; i < n; i++ {
		var took time.Duration
		d, err := timeN(1, func(int) error {
			_, errOut, err := e.bgmux([]string{"BGMUX_DEBUG_TMUX=1"}, "start", "--name", fmt.Sprintf("%s-%d", prefix, i), "--", "sleep", "100000")
			if err == nil {
				took, err = tmuxTook(errOut)
			}
			return err
		})
		if err != nil {
			return stats{}, stats{}, stats{}, err
		}
		b, in = append(b, d...), append(in, took)
		d, err = timeN(1, func(int) error {
			_, err := e.tmux("new-window", "-d", "-t", "="+e.raw+":", "sleep", "100000")
			return err
		})
		if err != nil {
			return stats{}, stats{}, stats{}, err
		}
		t = append(t, d...)
	}
	return ms(b), ms(t), ms(in), nil
}

// tmuxTook sums the durations of the tmux calls in a BGMUX_DEBUG_TMUX=1
// trace ("bgmux: tmux [...] took 12.34 ms").
func tmuxTook(stderr []byte) (time.Duration, error) {
	var total time.Duration
	n := 0
	for _, l := range strings.Split(string(stderr), "\n") {
		if !strings.HasPrefix(l, "bgmux: tmux ") {
			continue
		}
		i := strings.LastIndex(l, " took ")
		if i < 0 || !strings.HasSuffix(l, " ms") {
			return 0, fmt.Errorf("tmux trace line without its duration: %q", l)
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(l[i+len(" took "):], " ms"), 64)
		if err != nil {
			return 0, fmt.Errorf("tmux trace line %q: %w", l, err)
		}
		total += time.Duration(v * float64(time.Millisecond))
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("no tmux call in the trace: %q", stderr)
	}
	return total, nil
}
