//lint:file-ignore SA1019 MCP logging notifications (notifications/message) are how this server tells clients a task ended; protocol 2026-07-28 deprecates them, but the clients in use (2025 protocol versions) surface them and have no replacement yet.

package mcp

import (
	"os"
	"strconv"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgmux/bgmux/tasks"
)

// ExitEvent is the data of the log notification (notifications/message,
// logger "bgmux") sent to a client when a run of a task it started (or
// restarted) ends.
type ExitEvent struct {
	// Event is always "task_ended".
	Event string `json:"event"`
	// Message says it in words: "web (bg-3f9k2a) exited 3".
	Message string `json:"message"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Run     int    `json:"run"`
	// State is exited, killed or lost.
	State    tasks.State `json:"state"`
	ExitCode *int        `json:"exit_code"`
	Signal   *string     `json:"signal"`
	// ExitStatus is the shell-style status: the exit code, 128+n for
	// signal n, 1 for a lost task.
	ExitStatus int `json:"exit_status"`
	// RestartPending is set when the restart policy runs the task again.
	RestartPending bool `json:"restart_pending"`
	// Task is the task object as it is now.
	Task *tasks.Task `json:"task"`
}

// defaultExitPoll is how often watched tasks are looked at. Looking is a
// few small file reads per task; one goroutine watches every task, so
// there is no inotify instance per task to run out of.
const defaultExitPoll = 250 * time.Millisecond

// watcher reports the end of each run of the tasks started through the
// server to the session that started them.
type watcher struct {
	s        *Server
	interval time.Duration

	mu      sync.Mutex
	tasks   map[string]*watched // by task id
	started bool
	stopped bool
	done    chan struct{}
}

// watched is one task being watched: the run whose end is reported next
// and the session to tell.
type watched struct {
	run     int
	session *sdk.ServerSession
	// asked is the run the agent asked to end (stop_task, restart_task),
	// 0 if none: its end is expected, not a failure to warn about.
	asked int
}

func newWatcher(s *Server, interval time.Duration) *watcher {
	if interval <= 0 {
		interval = defaultExitPoll
	}
	return &watcher{s: s, interval: interval, tasks: map[string]*watched{}, done: make(chan struct{})}
}

// add watches t for session ss, from its current run on. A task already
// watched keeps its place, so no run's end is skipped.
func (w *watcher) add(ss *sdk.ServerSession, t *tasks.Task) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || ss == nil {
		return
	}
	if _, ok := w.tasks[t.ID]; ok {
		return
	}
	w.tasks[t.ID] = &watched{run: max(t.Runs, 1), session: ss}
	if !w.started {
		w.started = true
		go w.loop()
	}
}

// asked notes that the agent asked to end the current run of the task
// (a stop or a restart through this server), when it is watched.
func (w *watcher) asked(t *tasks.Task) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if wt := w.tasks[t.ID]; wt != nil {
		wt.asked = max(t.Runs, 1)
	}
}

// remove stops watching the task id.
func (w *watcher) remove(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.tasks, id)
}

// stop ends the watcher and waits for its goroutine.
func (w *watcher) stop() {
	w.mu.Lock()
	started := w.started
	if !w.stopped {
		w.stopped = true
	}
	w.mu.Unlock()
	if started {
		<-w.done
	}
}

func (w *watcher) loop() {
	defer close(w.done)
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-w.s.ctx.Done():
			return
		case <-tick.C:
			w.check()
		}
	}
}

// check looks at every watched task once and reports the runs that ended.
func (w *watcher) check() {
	w.mu.Lock()
	ids := make([]string, 0, len(w.tasks))
	for id := range w.tasks {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	m := w.s.m
	for _, id := range ids {
		if w.s.ctx.Err() != nil {
			return
		}
		t, err := m.Get(id)
		if err == nil && t.State == tasks.Lost {
			// The supervisor writes the exit record just before it exits:
			// a second look tells a finished run from a lost one.
			t, err = m.Get(id)
		}
		w.mu.Lock()
		wt := w.tasks[id]
		w.mu.Unlock()
		if wt == nil {
			continue
		}
		if err != nil {
			if k := tasks.KindOf(err); k == tasks.KindNotFound || k == tasks.KindCorrupt {
				w.remove(id) // removed, or set aside: it will not end
			}
			continue
		}
		for {
			ev := runEnd(t, wt.run)
			if ev == nil {
				if t.Runs < wt.run && !t.Live() {
					// Stopped while waiting to restart: no run to report.
					w.remove(id)
				}
				break
			}
			w.mu.Lock()
			asked := wt.asked == ev.Run
			w.mu.Unlock()
			// A run ended by bgmux stop (from the agent's shell, say)
			// leaves the stop mark until the next restart.
			asked = asked || ev.Run == t.Runs && !t.Live() && fileExists(m.Store.Path(id, tasks.StopFile))
			if err := wt.session.Log(w.s.ctx, exitNotice(ev, asked)); err != nil {
				// The session is gone: nobody to tell.
				w.remove(id)
				break
			}
			wt.run++
			if wt.run > t.Runs && !t.Live() {
				w.remove(id)
				break
			}
		}
	}
}

// runEnd describes the end of run of t, or returns nil while it has not
// ended.
func runEnd(t *tasks.Task, run int) *ExitEvent {
	ev := &ExitEvent{Event: "task_ended", ID: t.ID, Name: t.Name, Run: run, Task: t}
	switch {
	case t.Runs > run:
		// A later run has started: the exit is in the history.
		ev.State, ev.ExitStatus = tasks.Lost, 1
		for _, ex := range t.History {
			if ex.Run == run {
				ev.ExitCode, ev.Signal, ev.ExitStatus = ex.ExitCode, ex.Signal, ex.StatusCode()
				ev.State = tasks.Exited
				if ex.Signal != nil {
					ev.State = tasks.Killed
				}
				if ex.LostReason != nil {
					ev.State = tasks.Lost
				}
			}
		}
	case t.Runs == run && t.State.Finished():
		ev.State, ev.ExitCode, ev.Signal, ev.ExitStatus = t.State, t.ExitCode, t.Signal, 1
		if ex := t.Exit(); ex != nil && t.State != tasks.Lost {
			ev.ExitStatus = ex.StatusCode()
		}
		ev.RestartPending = t.NextRestartAt != nil
	default:
		return nil
	}
	ev.Message = t.Name + " (" + t.ID + ") " + endedWords(ev)
	if ev.RestartPending {
		ev.Message += "; the restart policy runs it again"
	}
	return ev
}

// endedWords says how a run ended: "exited 3", "was killed by SIGTERM".
func endedWords(ev *ExitEvent) string {
	switch {
	case ev.State == tasks.Exited && ev.ExitCode != nil:
		return "exited " + strconv.Itoa(*ev.ExitCode)
	case ev.State == tasks.Killed && ev.Signal != nil:
		return "was killed by " + *ev.Signal
	}
	return "was lost (its supervisor ended without recording an exit)"
}

// exitNotice is the log notification for ev: level info for exit 0 and
// for an end that was asked for (asked: a stop or restart), warning for
// any other end.
func exitNotice(ev *ExitEvent, asked bool) *sdk.LoggingMessageParams {
	level := sdk.LoggingLevel("warning")
	if asked && ev.State != tasks.Lost || ev.State == tasks.Exited && ev.ExitStatus == 0 {
		level = "info"
	}
	return &sdk.LoggingMessageParams{Level: level, Logger: "bgmux", Data: ev}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
