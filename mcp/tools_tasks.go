package mcp

import (
	"fmt"
	"sort"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bgmux/bgmux/tasks"
)

// addTools registers every tool.
func (s *Server) addTools() {
	yes, no := true, false
	addTool(s, &sdk.Tool{
		Name: "start_task",
		Description: "Start a long-running or background command (dev server, file watcher, build, test suite, REPL) in its own tmux window, and return at once with its task object. " +
			"It keeps running after this call and after this session ends; use this instead of running such commands in the foreground or with '&'. " +
			"To wait until it is ready, pass wait_for (a regular expression for a line such as 'listening on port (\\d+)') instead of sleeping: the call returns as soon as that line is printed, with the line and its capture groups. " +
			"Then read its output with read_output (new=true gives only unseen output), wait with wait_task, type into it with send_input, end it with stop_task. " +
			"Every byte of output is kept in a log and the exit code is recorded exactly; a log notification is sent when it ends. A person can watch it with the command in tmux.attach.",
		InputSchema:  inputSchema[StartInput](map[string][]any{"restart": {"never", "on-failure", "always"}}),
		OutputSchema: startSchema(),
		Annotations:  &sdk.ToolAnnotations{Title: "Start a background task", DestructiveHint: &no, OpenWorldHint: &yes},
	}, s.startTask)
	addTool(s, &sdk.Tool{
		Name: "get_task",
		Description: "Get one task's current state: running, exited (with exit_code), killed (with signal) or lost; its pid, command, runs, times, earlier runs' exits (history) and tmux.attach, the command a person runs to watch it. " +
			"It answers at once from files on disk. To wait for a task to print something or to end, use wait_task rather than calling get_task repeatedly.",
		InputSchema:  inputSchema[TaskInput](nil),
		OutputSchema: outputSchema[tasks.Task](),
		Annotations:  &sdk.ToolAnnotations{Title: "Get a task", ReadOnlyHint: true, OpenWorldHint: &no},
	}, s.getTask)
	addTool(s, &sdk.Tool{
		Name: "list_tasks",
		Description: "List tasks, oldest first, with their state and exit code: by default those of this project's group (the directory the server runs in); all=true lists every group. " +
			"Filter by tag or state. Use it to find a task's id or name, or to see what is still running.",
		InputSchema:  inputSchema[ListInput](map[string][]any{"state": {"starting", "running", "exited", "killed", "lost"}}),
		OutputSchema: outputSchema[TaskList](),
		Annotations:  &sdk.ToolAnnotations{Title: "List tasks", ReadOnlyHint: true, OpenWorldHint: &no},
	}, s.listTasks)
	addTool(s, &sdk.Tool{
		Name: "stop_task",
		Description: "Stop a task: signal its whole process group (TERM by default, so its child processes stop too), then SIGKILL after grace_s if anything is left; this also ends its restart policy. " +
			"Returns the task with its recorded exit (killed by SIGTERM, or exited with its code if it handled the signal). A finished task is left as it is.",
		InputSchema:  inputSchema[StopInput](nil),
		OutputSchema: outputSchema[tasks.Task](),
		Annotations:  &sdk.ToolAnnotations{Title: "Stop a task", DestructiveHint: &yes, IdempotentHint: true, OpenWorldHint: &no},
	}, s.stopTask)
	addTool(s, &sdk.Tool{
		Name: "restart_task",
		Description: "Run a task again with the same command, settings and id, stopping it first if it runs: runs goes up by one and the earlier exit stays in history. " +
			"Use it after changing the code a server runs. Its output log continues, so read_output with new=true shows just the new run's output.",
		InputSchema:  inputSchema[TaskInput](nil),
		OutputSchema: outputSchema[tasks.Task](),
		Annotations:  &sdk.ToolAnnotations{Title: "Restart a task", DestructiveHint: &yes, OpenWorldHint: &yes},
	}, s.restartTask)
	addTool(s, &sdk.Tool{
		Name: "remove_task",
		Description: "Delete a finished task (exited, killed or lost): its tmux window, its state and its output log. " +
			"A live task is refused unless force=true, which kills it first. Use it to clean up after a task is no longer needed.",
		InputSchema:  inputSchema[RemoveInput](nil),
		OutputSchema: outputSchema[RemoveResult](),
		Annotations:  &sdk.ToolAnnotations{Title: "Remove a task", DestructiveHint: &yes, IdempotentHint: true, OpenWorldHint: &no},
	}, s.removeTask)
	s.addIOTools()
}

// defaultWait bounds wait_task and start_task's wait_for when timeout_s
// is not given: below the 60s many clients allow a tool call, and short
// enough to keep an agent responsive. A timeout is safe to retry.
const defaultWait = 30 * time.Second

// seconds converts a timeout_s or grace_s argument; nil gives def.
func seconds(name string, v *float64, def time.Duration) (time.Duration, error) {
	switch {
	case v == nil:
		return def, nil
	case *v < 0:
		return 0, tasks.Errorf(tasks.KindInvalid, "%s must be 0 or more seconds, not %g", name, *v)
	case *v > 1e9:
		return 0, tasks.Errorf(tasks.KindInvalid, "%s %g is too large", name, *v)
	}
	return time.Duration(*v * float64(time.Second)), nil
}

func (s *Server) startTask(c *call, in StartInput) (*reply, error) {
	st, err := s.beginStart(c, in)
	if err != nil {
		return nil, err
	}
	if st.w == nil {
		return &reply{
			summary: st.words + describe(st.t) + ". " + attach(st.t) + ". Wait for it with wait_task (not sleep); read its output with read_output new=true.",
			value:   st.t.Report(),
		}, nil
	}
	return st.wait(c, st.w.timeout)
}

// startCall is a task start_task started (or reused), and its wait_for.
type startCall struct {
	t *tasks.Task
	// words begin the summary: "Started " or "Reused the live task ".
	words string
	w     *waitArgs // nil without wait_for
}

// beginStart checks start_task's arguments and starts the task.
func (s *Server) beginStart(c *call, in StartInput) (*startCall, error) {
	var w *waitArgs
	var err error
	switch {
	case in.WaitFor != "":
		if w, err = parseWait("wait_for", in.WaitFor, in.TimeoutS); err != nil {
			return nil, err
		}
	case in.TimeoutS != nil:
		return nil, tasks.Errorf(tasks.KindInvalid, "timeout_s goes with wait_for; give both, or leave timeout_s out")
	}
	if in.Reuse && in.Name == "" {
		return nil, tasks.Errorf(tasks.KindInvalid, "reuse needs name: it returns the live task of that name")
	}
	env := make([]string, 0, len(in.Env))
	for k, v := range in.Env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	var envFiles []string
	if in.EnvFile != "" {
		envFiles = []string{in.EnvFile}
	}
	t, err := c.m.Start(c.ctx, tasks.StartOptions{
		Name: in.Name, Group: in.Group, Cwd: in.Cwd, Env: env, EnvFiles: envFiles, Tags: in.Tags,
		Restart: in.Restart, MaxRestarts: in.MaxRestarts, Reuse: in.Reuse, Command: in.Command,
	})
	if err != nil {
		return nil, err
	}
	s.watch.add(c.req.Session, t)
	st := &startCall{t: t, words: "Started ", w: w}
	if t.Reused() {
		st.words = "Reused the live task " // reuse returned an existing task
	}
	return st, nil
}

// wait waits for the wait_for line for at most timeout (the wait's own
// timeout, or what is left of it when a wait is resumed).
func (st *startCall) wait(c *call, timeout time.Duration) (*reply, error) {
	t, w := st.t, st.w
	res, err := c.m.Wait(c.ctx, t, tasks.WaitOptions{For: w.re, Timeout: timeout, Tail: 20, Progress: c.progress(), Ready: true})
	if err != nil {
		return nil, tasks.Errorf(tasks.KindFailed, "started %s (%s), but the wait for /%s/ ended: %v; the task goes on: use wait_task or get_task", t.Name, t.ID, w.pattern, err)
	}
	v := newWaitResult(res)
	if !res.Matched && res.Tail != nil {
		v.Tail = res.Tail
	}
	r := w.reply(res, v)
	r.summary = st.words + res.Task.Name + " (" + res.Task.ID + "). " + r.summary
	if !res.Matched && len(v.Tail) > 0 {
		r.summary += " Its last lines of output are in tail."
	}
	if res.Matched {
		r.summary += " It goes on in the background: wait for it with wait_task (not sleep); read its output with read_output new=true."
	}
	return r, nil
}

func (s *Server) getTask(c *call, in TaskInput) (*reply, error) {
	t, err := c.m.Get(in.Task)
	if err != nil {
		return nil, err
	}
	sum := describe(t) + "."
	if t.Error != nil {
		sum += " It could not start: " + *t.Error + "."
	}
	return &reply{summary: sum + " " + attach(t) + ".", value: t}, nil
}

func (s *Server) listTasks(c *call, in ListInput) (*reply, error) {
	ts, warnings, err := c.m.List(tasks.ListOptions{Group: in.Group, All: in.All, Tag: in.Tag, State: in.State})
	for _, w := range warnings {
		s.logf("warning: %s", w)
	}
	if err != nil {
		return nil, err
	}
	where := "in group " + c.m.CurrentGroup()
	switch {
	case in.All:
		where = "in any group"
	case in.Group != "":
		where = "in group " + in.Group
	}
	var b strings.Builder
	switch len(ts) {
	case 0:
		fmt.Fprintf(&b, "No tasks %s match.", where)
	case 1:
		fmt.Fprintf(&b, "1 task %s:", where)
	default:
		fmt.Fprintf(&b, "%d tasks %s:", len(ts), where)
	}
	const shown = 50
	for i, t := range ts {
		if i == shown {
			fmt.Fprintf(&b, "\n- ... and %d more", len(ts)-shown)
			break
		}
		b.WriteString("\n- " + describe(t))
	}
	for _, w := range warnings {
		b.WriteString("\nWarning: " + w)
	}
	if ts == nil {
		ts = []*tasks.Task{}
	}
	if warnings == nil {
		warnings = []string{}
	}
	return &reply{summary: b.String(), value: &TaskList{Tasks: ts, Warnings: warnings}}, nil
}

func (s *Server) stopTask(c *call, in StopInput) (*reply, error) {
	grace, err := seconds("grace_s", in.GraceS, -1)
	if err != nil {
		return nil, err
	}
	signal := in.Signal
	if signal == "" {
		signal = "TERM"
	}
	_, sigName, err := tasks.ParseSignal(signal)
	if err != nil {
		return nil, err
	}
	t, err := c.m.Get(in.Task)
	if err != nil {
		return nil, err
	}
	wasLive := !t.State.Finished()
	if grace < 0 {
		grace = time.Duration(c.m.Config.StopGrace)
	}
	c.working("stopping %s (%s): %s sent, SIGKILL after %s if it is still running", t.Name, t.ID, sigName, grace)
	c.s.watch.asked(t)
	ctx, cancel := c.lasting()
	defer cancel()
	t, err = c.m.Stop(ctx, t, tasks.StopOptions{Signal: signal, Grace: grace})
	if err != nil {
		return nil, err
	}
	sum := "Stopped: " + describe(t) + "."
	if !wasLive {
		sum = "Nothing to stop: " + describe(t) + "."
	}
	return &reply{summary: sum, value: t}, nil
}

func (s *Server) restartTask(c *call, in TaskInput) (*reply, error) {
	t, err := c.m.Get(in.Task)
	if err != nil {
		return nil, err
	}
	c.working("restarting %s (%s)", t.Name, t.ID)
	c.s.watch.asked(t)
	ctx, cancel := c.lasting()
	defer cancel()
	t, err = c.m.Restart(ctx, t)
	if err != nil {
		return nil, err
	}
	s.watch.add(c.req.Session, t)
	return &reply{summary: fmt.Sprintf("Restarted, run %d: %s. %s.", t.Runs, describe(t), attach(t)), value: t}, nil
}

func (s *Server) removeTask(c *call, in RemoveInput) (*reply, error) {
	t, err := c.m.Get(in.Task)
	if err != nil {
		return nil, err
	}
	c.working("removing %s (%s)", t.Name, t.ID)
	ctx, cancel := c.lasting()
	defer cancel()
	if err := c.m.Remove(ctx, []*tasks.Task{t}, in.Force); err != nil {
		return nil, err
	}
	s.watch.remove(t.ID)
	return &reply{
		summary: "Removed " + t.Name + " (" + t.ID + "): its window, state and output log are gone.",
		value:   &RemoveResult{Removed: []*tasks.Task{t}},
	}, nil
}
