package supervisor

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/bgmux/bgmux/control"
	"github.com/bgmux/bgmux/tasks"
	"github.com/creack/pty"
	"golang.org/x/term"
)

// View shows task id's output in the current terminal (a tmux pane) by
// way of its supervisor's control socket: the recent output, then the
// live output, until the task's supervisor ends. What is typed is
// relayed to the task, and the pane's size becomes the task terminal's.
// The task is not changed by a viewer coming or going.
func View(stateDir, id string) int {
	if !tasks.ValidID(id) {
		fmt.Fprintf(os.Stderr, "[bgmux] %q is not a task id\n", id)
		return 2
	}
	st := tasks.OpenStore(stateDir)
	c, err := control.Dial(st.Path(id, control.File), 2*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] task %s is not running any more; its output: bgmux logs %s\n", id, id)
		return 0
	}
	defer c.Close()
	req := control.Request{Op: "view", PID: os.Getpid()}
	tty := isTerminal(0)
	if tty {
		if sz, err := pty.GetsizeFull(os.Stdin); err == nil {
			req.Rows, req.Cols = sz.Rows, sz.Cols
		}
	}
	if err := control.WriteLine(c, req); err != nil {
		fmt.Fprintf(os.Stderr, "[bgmux] task %s: its supervisor did not answer: %v\n", id, err)
		return 1
	}
	r := bufio.NewReader(c)
	line, err := r.ReadBytes('\n')
	var rep control.Reply
	if err != nil || json.Unmarshal(line, &rep) != nil || !rep.OK {
		fmt.Fprintf(os.Stderr, "[bgmux] task %s: its supervisor did not let this window show it (%s)\n", id, rep.Error)
		return 1
	}
	if tty {
		if old, err := term.MakeRaw(0); err == nil {
			defer term.Restore(0, old)
		}
	}
	var wmu sync.Mutex
	send := func(req control.Request) {
		wmu.Lock()
		defer wmu.Unlock()
		control.WriteLine(c, req)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := os.Stdin.Read(buf)
			if n > 0 {
				send(control.Request{Op: "input", Data: append([]byte(nil), buf[:n]...)})
			}
			if err != nil {
				return
			}
		}
	}()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGWINCH, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGWINCH {
				// The window went away: so does the viewer; the task goes on.
				c.Close()
				return
			}
			if sz, err := pty.GetsizeFull(os.Stdin); err == nil {
				send(control.Request{Op: "size", Rows: sz.Rows, Cols: sz.Cols})
			}
		}
	}()
	io.Copy(os.Stdout, r)
	return 0
}
