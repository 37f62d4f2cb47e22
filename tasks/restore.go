package tasks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/bgmux/bgmux/fileutil"
	"github.com/bgmux/bgmux/proc"

	"github.com/bgmux/bgmux/tmuxctl"
)

// Restore actions, one per task in a RestoreResult.
const (
	RestoreOK        = "ok"        // running (or starting) fine: left alone
	RestoreRestarted = "restarted" // brought back in a window, next run number
	RestoreLost      = "lost"      // recorded lost and not brought back
	RestoreFinished  = "finished"  // ended earlier (exited or killed): left alone
	RestoreFailed    = "failed"    // should have been brought back, but could not
)

// RestoreResult is what restore did to one task.
type RestoreResult struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Action string `json:"action"`
	Reason string `json:"reason"`
	Task   *Task  `json:"task"`
}

// Restore is run after a reboot or a tmux server loss, and is safe to run
// at any time (every login): tasks that run are left alone; a task whose
// run ended unobserved (host rebooted, tmux server, window or supervisor
// gone) gets a durable lost exit record (an Exit with Lost set, so it
// stays lost with its output after later boots, and never replaces an
// exit record the supervisor wrote); then every task whose restart policy
// asks for it (always; on-failure, as a loss is a failure) or that is a
// declared autostart task, and every such task that its supervisor
// recorded killed by HUP, TERM or KILL when its tmux server went away or
// its host shut down (not after bgmux stop), is run again with the next run number, in its
// old pane when that still exists on the server, else in a new window of
// the same name and group (which recreates the tmux session). Its earlier
// output stays in the log. A task stopped by bgmux stop, or whose
// max_restarts is 0, is not brought back. A second restore changes
// nothing. Concurrent restores are serialised by a lock file.
//
// warnings are problems that did not stop the restore (a task set
// aside, a tmux server that did not answer); the CLI prints them on
// stderr.
func (m *Manager) Restore(ctx context.Context) (results []RestoreResult, warnings []string, err error) {
	if err := m.Store.Init(); err != nil {
		return nil, nil, err
	}
	unlockRestore, err := fileutil.LockFile(filepath.Join(m.Store.Dir, "restore.lock"))
	if err != nil {
		return nil, nil, wrap(m.Store.unwritable(err), "restore")
	}
	defer unlockRestore()

	ids, err := m.Store.IDs()
	if err != nil {
		return nil, nil, err
	}
	var list []*Task
	for _, id := range ids {
		t, err := m.Store.loadOrSetAside(id)
		if err != nil {
			var sa *SetAsideError
			if errors.As(err, &sa) {
				warnings = append(warnings, "restore: "+err.Error())
			} else {
				warnings = append(warnings, "restore: skipped "+id+": "+err.Error())
			}
			continue
		}
		list = append(list, t)
	}
	// One pane listing per tmux server, taken before any window is
	// opened: a pane id recorded before a server restart may name
	// another task's pane on the new server.
	servers := map[string]*serverView{}
	for _, t := range list {
		sock := taskSocket(t)
		if servers[sock] == nil {
			var err error
			if servers[sock], err = m.viewServer(ctx, sock); err != nil {
				warnings = append(warnings, "restore: list tmux panes: "+err.Error())
			}
		}
	}

	results, toRestart, toShow, err := m.judgeRestore(list, servers)
	if err != nil {
		return nil, warnings, err
	}

	for sock, srv := range servers {
		if !srv.answered || len(srv.mark) == 0 {
			continue // nothing to mark, or a server that would not answer
		}
		if err := m.onSocket(sock).Tmux.SetWindowsState(ctx, srv.mark, "lost"); err != nil {
			warnings = append(warnings, fmt.Sprintf("restore: mark %d windows lost (%s...): %v", len(srv.mark), srv.mark[0], err))
		}
	}
	for _, i := range toShow {
		res := &results[i]
		if err := m.onSocket(taskSocket(res.Task)).giveWindow(ctx, res.Task); err != nil {
			res.Reason += "; its window is gone and a new one could not be opened: " + err.Error()
			continue
		}
		res.Reason += "; shown in a new window (its own was gone)"
	}
	for _, i := range toRestart {
		res := &results[i]
		t := res.Task
		if !servers[taskSocket(t)].answered {
			// Each restart would wait for it again, to fail the same way.
			res.Action, res.Reason = RestoreFailed, res.Reason+"; could not restart: its tmux server did not answer (see the warning); run bgmux restore again once it does"
			continue
		}
		if t.window == nil {
			// Its window record is stale (the pane is gone, or its id
			// now names another task's pane): drop it so that Restart,
			// which reloads the task, opens a new window instead of
			// respawning that pane.
			if err := os.Remove(m.Store.Path(t.ID, WindowFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
				res.Action, res.Reason = RestoreFailed, res.Reason+"; could not restart: "+err.Error()
				continue
			}
		}
		nt, err := m.onSocket(taskSocket(t)).Restart(ctx, t)
		if err != nil {
			res.Action, res.Reason = RestoreFailed, res.Reason+"; could not restart: "+err.Error()
			continue
		}
		res.Action, res.Task = RestoreRestarted, nt
	}
	for i := range results {
		if results[i].Action != RestoreRestarted {
			if t, err := m.Store.load(results[i].ID); err == nil {
				results[i].Task = t
			}
		}
	}
	sort.SliceStable(results, func(i, j int) bool { return results[i].Task.CreatedAt.Before(results[j].Task.CreatedAt) })
	return results, warnings, nil
}

// judgeRestore decides, under the store lock, what restore does with each
// task of list: the results, and which of them (by index) to restart and
// which to show in a new window once the lock is released. It writes the
// exit records of the runs found lost, and notes the panes to mark lost
// in servers.
func (m *Manager) judgeRestore(list []*Task, servers map[string]*serverView) (results []RestoreResult, toRestart, toShow []int, err error) {
	unlock, err := m.Store.Lock()
	if err != nil {
		return nil, nil, nil, err
	}
	defer unlock()
	results = make([]RestoreResult, 0, len(list))
	for _, t := range list {
		srv := servers[taskSocket(t)]
		res := RestoreResult{ID: t.ID, Name: t.Name, Task: t}
		hadWindow := t.window != nil
		if hadWindow && srv.answered && !srv.owns(t.window.Pane, t.ID) {
			// Gone, or its id now names another pane. (A server that did
			// not answer says nothing about its panes: the record stays,
			// and a restart in it fails cleanly, asking tmux again.)
			t.window = nil
		}
		if t.exitFromHistory {
			// Its supervisor died between the history and the exit
			// record: write the exit record from what it saw.
			ex := *t.exit
			if err := m.Store.withRecordLock(t.ID, func() error { return fileutil.WriteJSON(m.Store.Path(t.ID, ExitFile), ex) }); err != nil {
				return nil, nil, nil, wrap(m.Store.unwritable(err), "restore %s: write its exit record", t.ID)
			}
			t.exitFromHistory = false
			m.eventExitFromHistory(t)
		}
		restart := false
		switch {
		case t.State == Lost && (t.exit == nil || !t.exit.Lost):
			reason := lostReason(t, srv, hadWindow)
			if err := m.recordLost(t, reason); err != nil {
				return nil, nil, nil, wrap(err, "restore %s: record it lost", t.ID)
			}
			res.Action, res.Reason = RestoreLost, reason
			restart = true
		case t.State == Lost:
			res.Action, res.Reason = RestoreLost, t.exit.LostReason
			restart = true
		case t.State.Finished() && t.exit != nil && t.exit.NextRestartAt != nil && !t.supervisorAlive():
			res.Action, res.Reason = RestoreFinished, "supervisor gone while waiting to restart"
			restart = true
		case (t.State == Killed || t.State == Exited) && !t.supervisorAlive() && hangupSignal(t.exit) &&
			(t.window == nil || t.run != nil && t.run.BootID != proc.BootID()):
			// A tmux server that goes away hangs up its panes, and a
			// shutdown sends TERM: the supervisor records the signal
			// (or the exit of a child whose writes to the vanished
			// terminal failed) and, taking it for a stop, does not
			// restart. Without a bgmux stop marker this is a loss, not
			// a stop.
			how := "ended by a hangup"
			if t.exit.Signal != nil {
				how = "killed by " + *t.exit.Signal
			}
			res.Action, res.Reason = RestoreFinished, how+" when its host or tmux server went down"
			restart = true
		case t.State.Finished():
			res.Action, res.Reason = RestoreFinished, string(t.State)
		default:
			res.Action, res.Reason = RestoreOK, string(t.State)
			if srv.answered && t.window == nil && t.supervisorAlive() {
				// It outlived its window (tmux server killed, window
				// closed): it is shown in a new one.
				toShow = append(toShow, len(results))
			}
		}
		if restart {
			if why := m.restoreWanted(t); why != "" {
				toRestart = append(toRestart, len(results))
				if res.Reason != "" {
					why = res.Reason + "; " + why
				}
				res.Reason = why
			} else if t.window != nil && t.State == Lost {
				srv.mark = append(srv.mark, t.window.Pane)
			}
		}
		results = append(results, res)
	}
	return results, toRestart, toShow, nil
}

// hangupSignal reports whether ex is a death by the signals a lost
// terminal or a shutdown delivers (HUP, TERM, KILL), or a run whose
// supervisor saw its terminal hang up (Exit.Hangup).
func hangupSignal(ex *Exit) bool {
	if ex != nil && ex.Hangup {
		return true
	}
	if ex == nil || ex.Signal == nil {
		return false
	}
	switch *ex.Signal {
	case "SIGHUP", "SIGTERM", "SIGKILL":
		return true
	}
	return false
}

// restoreWanted says why restore brings t back, or "" when it does not.
func (m *Manager) restoreWanted(t *Task) string {
	sp := t.spec
	if fileExists(m.Store.Path(t.ID, StopFile)) {
		return ""
	}
	if sp.Autostart {
		return "declared autostart"
	}
	if sp.MaxRestarts != nil && *sp.MaxRestarts == 0 {
		return ""
	}
	switch sp.Restart {
	case "always":
		return "restart always"
	case "on-failure":
		return "restart on-failure"
	}
	return ""
}

// recordLost writes the lost exit record for the task's current run and
// appends it to the run history, under the task's record lock (so that
// it cannot interleave with a supervisor writing its records). The
// caller holds the store lock and has seen the task lost: its supervisor
// cannot come back, so no exit record of the current run can appear.
func (m *Manager) recordLost(t *Task, reason string) error {
	return m.Store.withRecordLock(t.ID, func() error { return m.recordLostLocked(t, reason) })
}

// recordLostLocked is recordLost; the caller holds the record lock.
func (m *Manager) recordLostLocked(t *Task, reason string) error {
	var now Run
	if err := readJSON(m.Store.Path(t.ID, RunFile), &now); err == nil && (t.run == nil || now.Run != t.run.Run) {
		return nil // a new run was claimed meanwhile: it is not lost
	}
	run := 0
	var started time.Time
	if t.run != nil {
		run, started = t.run.Run, t.run.StartedAt
	}
	var cur Exit
	if err := readJSON(m.Store.Path(t.ID, ExitFile), &cur); err == nil && cur.Run >= run && t.run != nil {
		return nil // the supervisor did write one: keep it
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	ex := Exit{Run: run, StartedAt: started, EndedAt: time.Now().UTC(), Lost: true, LostReason: reason}
	if err := fileutil.WriteJSON(m.Store.Path(t.ID, ExitFile), ex); err != nil {
		return err
	}
	t.exit = &ex
	m.eventLost(t, &ex)
	t.fill(m.Store)
	hist, ok := ReadHistory(m.Store.Path(t.ID, HistoryFile))
	if !ok {
		return nil // the exit record is written; a damaged history stays as it is
	}
	return fileutil.WriteJSON(m.Store.Path(t.ID, HistoryFile), AppendHistory(hist, ex))
}

// lostReason says how a lost task was lost, from its records and the
// server's panes.
func lostReason(t *Task, srv *serverView, hadWindow bool) string {
	boot := proc.BootID()
	switch {
	case t.run != nil && t.run.BootID != boot:
		return "host rebooted"
	case t.run == nil && hadWindow && t.window != nil && t.window.BootID != boot:
		return "host rebooted"
	case !srv.answered && t.run == nil:
		// What tmux shows is unknown: only the records speak.
		return "supervisor never started"
	case !srv.answered:
		return "supervisor gone"
	case !srv.running:
		return "tmux server gone"
	case t.window == nil:
		return "window gone"
	case t.run == nil:
		return "supervisor never started"
	}
	return "supervisor gone"
}

// serverView is one tmux server's panes as restore found them.
type serverView struct {
	// answered is false when the server did not answer (stopped, hung):
	// then nothing is known of its panes, and nothing is judged from them.
	answered bool
	running  bool
	panes    map[string]string // pane id -> task id of its window
	mark     []string          // panes to mark lost
}

func (v *serverView) owns(pane, id string) bool { return v.panes[pane] == id }

// viewServer lists the panes of the server on socket. A server that
// fails to answer is a view that says so (answered false), and the error.
func (m *Manager) viewServer(ctx context.Context, socket string) (*serverView, error) {
	v := &serverView{panes: map[string]string{}}
	srv := m.onSocket(socket).Tmux
	panes, err := srv.ListPanes(ctx)
	if err != nil {
		return v, err
	}
	v.answered = true
	v.running = len(panes) > 0 || srv.Running(ctx)
	for _, p := range panes {
		v.panes[p.Pane] = p.TaskID
	}
	return v, nil
}

// onSocket is m working on the tmux server of socket (m itself when it
// already does).
func (m *Manager) onSocket(socket string) *Manager {
	if socket == m.Tmux.Socket {
		return m
	}
	mm := *m
	mm.Tmux = tmuxctl.New(socket)
	mm.Tmux.HistoryLimit, mm.Tmux.Timeout = m.Tmux.HistoryLimit, m.Tmux.Timeout
	return &mm
}

// taskSocket is the tmux socket a task's window lives on.
func taskSocket(t *Task) string {
	if t.window != nil && t.window.Socket != "" {
		return t.window.Socket
	}
	return t.spec.Socket
}
