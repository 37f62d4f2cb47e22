package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// waitLatency times from releasing a task's line until bgmux wait --for exits.
func waitLatency(e *env, n int) (stats, error) {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		fifo := filepath.Join(e.root, fmt.Sprintf("fifo-%d", i))
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			return stats{}, err
		}
		mark := fmt.Sprintf("released-%d-%d", i, time.Now().UnixNano())
		id, err := e.start("--name", fmt.Sprintf("wait-%d", i), "--", fmt.Sprintf("read x < %s; echo %s; sleep 100000", fifo, mark))
		if err != nil {
			return stats{}, err
		}
		w, done := command(e.bin, "wait", id, "--for", mark, "--timeout", "30s")
		w.Dir, w.Env = e.work, e.environ
		if err := w.Start(); err != nil {
			done()
			return stats{}, err
		}
		time.Sleep(300 * time.Millisecond) // let wait reach its watch loop
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		f, err := openWithContext(ctx, fifo)
		cancel()
		if err != nil {
			_ = w.Process.Kill()
			_ = w.Wait()
			done()
			return stats{}, err
		}
		t := time.Now()
		_, _ = io.WriteString(f, "go\n")
		_ = f.Close()
		err = w.Wait()
		d := time.Since(t)
		done()
		if err != nil {
			return stats{}, fmt.Errorf("bgmux wait --for: %w", err)
		}
		ds = append(ds, d)
		_, _, _ = e.bgmux(nil, "kill", id)
	}
	return ms(ds), nil
}

// openWithContext opens a FIFO for writing, giving up when ctx ends.
func openWithContext(ctx context.Context, path string) (*os.File, error) {
	type res struct {
		f   *os.File
		err error
	}
	ch := make(chan res, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		ch <- res{f, err}
	}()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("open %s: no reader: %w", path, ctx.Err())
	}
}

// logsNewLatency times, for n lines, from the harness releasing a line
// until bgmux returns it: polled with `logs --new` (calls back to back)
// and streamed by one `logs --new --follow`.
func logsNewLatency(e *env, n int) (poll, follow stats, err error) {
	fifo := filepath.Join(e.root, "logs-fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return poll, follow, err
	}
	// The task prints each line it reads from the FIFO, so the harness
	// decides when a line is written.
	id, err := e.start("--name", "logs-latency", "--", fmt.Sprintf("exec 3<>%s; while read -r l <&3; do echo \"$l\"; done", shellQuote(fifo)))
	if err != nil {
		return poll, follow, err
	}
	defer e.bgmux(nil, "kill", id)
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		return poll, follow, err
	}
	defer w.Close()
	if _, _, err := e.bgmux(nil, "logs", id, "--new", "--reader", "bench"); err != nil {
		return poll, follow, err
	}

	// Polling reader.
	var pd []time.Duration
	for i := 0; i < n; i++ {
		mark := fmt.Sprintf("poll-%d-%d", i, time.Now().UnixNano())
		t := time.Now()
		if _, err := io.WriteString(w, mark+"\n"); err != nil {
			return poll, follow, err
		}
		for {
			out, _, err := e.bgmux(nil, "logs", id, "--new", "--reader", "bench", "--raw")
			if err != nil {
				return poll, follow, err
			}
			if strings.Contains(string(out), mark) {
				break
			}
			if time.Since(t) > 10*time.Second {
				return poll, follow, fmt.Errorf("logs --new: %s not returned within 10s", mark)
			}
		}
		pd = append(pd, time.Since(t))
	}

	// Streaming reader.
	cmd, done := command(e.bin, "logs", id, "--new", "--reader", "bench-follow", "--follow", "--raw")
	defer done()
	cmd.Dir, cmd.Env = e.work, e.environ
	out, err := cmd.StdoutPipe()
	if err != nil {
		return poll, follow, err
	}
	if err := cmd.Start(); err != nil {
		return poll, follow, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The follower has started once it returns a first line.
	warm := fmt.Sprintf("warm-%d", time.Now().UnixNano())
	if _, err := io.WriteString(w, warm+"\n"); err != nil {
		return poll, follow, err
	}
	if err := awaitLine(lines, warm, 10*time.Second); err != nil {
		return poll, follow, err
	}
	var fd []time.Duration
	for i := 0; i < n; i++ {
		mark := fmt.Sprintf("follow-%d-%d", i, time.Now().UnixNano())
		t := time.Now()
		if _, err := io.WriteString(w, mark+"\n"); err != nil {
			return poll, follow, err
		}
		if err := awaitLine(lines, mark, 10*time.Second); err != nil {
			return poll, follow, err
		}
		fd = append(fd, time.Since(t))
	}
	return ms(pd), ms(fd), nil
}
