package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/bgmux/bgmux/tasks"
	"github.com/bgmux/bgmux/tmuxctl"
)

// claim is the supervisor's first step: under the task directory's lock,
// it checks that its task still exists and, when it was started with a
// launch token, that the token is the latest. It returns the release of
// the lock (to call once the run record is written), or why the launch
// was withdrawn.
func claim(st *tasks.Store, id, token string, records *tasks.RecordLock) (release func(), withdrawn string) {
	if records == nil {
		// Not ours to judge: run, and let reading the spec say more.
		return func() {}, ""
	}
	unlock := records.Lock()
	if _, err := os.Stat(st.Path(id, tasks.SpecFile)); errors.Is(err, fs.ErrNotExist) {
		unlock()
		return nil, "the task does not exist (removed, or its start gave up)"
	}
	if token != "" {
		b, err := os.ReadFile(st.Path(id, tasks.LaunchFile))
		if err != nil || strings.TrimSpace(string(b)) != token {
			unlock()
			return nil, "the restart that opened this window gave up (tmux did not answer in time)"
		}
	}
	return unlock, ""
}

// withdrawn is what a supervisor whose launch was withdrawn does: it runs
// nothing and closes its pane, unless that pane is the task's own window
// (a restart's respawned pane), which keeps its last state.
func withdrawn(st *tasks.Store, id, why string) int {
	fmt.Fprintf(os.Stderr, "[bgmux] not running task %s: %s\n", id, why)
	ctx, cancel := context.WithTimeout(context.Background(), tmuxctl.DefaultTimeout)
	defer cancel()
	var rec tasks.WindowRecord
	pane := os.Getenv("TMUX_PANE")
	if tasks.ReadRecord(st.Path(id, tasks.WindowFile), &rec) == nil && pane != "" && rec.Pane == pane {
		var spec tasks.Spec
		if tasks.ReadRecord(st.Path(id, tasks.SpecFile), &spec) == nil {
			state := "lost"
			var ex tasks.Exit
			if tasks.ReadRecord(st.Path(id, tasks.ExitFile), &ex) == nil && !ex.Lost {
				state = finalState(&ex, fileExists(st.Path(id, tasks.StopFile)))
			}
			tmuxctl.New(spec.Socket).SetWindowState(ctx, pane, state)
		}
		return 0
	}
	tmuxctl.CloseOwnPane(ctx)
	return 0
}
