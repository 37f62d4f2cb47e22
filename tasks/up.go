package tasks

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// The actions Up and Down report per task.
const (
	ActionStarted        = "started"
	ActionAlreadyRunning = "already_running"
	ActionStopped        = "stopped"
	ActionNotRunning     = "not_running"
)

// UpResult is what Up or Down did to one declared task. ID and Task
// are the task concerned: for not_running the newest task of that name,
// nil when there is none.
type UpResult struct {
	Name   string  `json:"name"`
	ID     *string `json:"id"`
	Action string  `json:"action"`
	Task   *Task   `json:"task"`
}

// upResult is the result of action on t (nil: no task).
func (m *Manager) upResult(name, action string, t *Task) UpResult {
	r := UpResult{Name: name, Action: action, Task: t}
	if t != nil {
		id := t.ID
		r.ID = &id
		m.Store.addDetails(t)
	}
	return r
}

// newestDeclared is the newest task, live or not, of the declared name
// in group, nil when there is none.
func (m *Manager) newestDeclared(name, group string) (*Task, error) {
	all, _, err := m.Store.loadAll() // up and down print no warnings
	if err != nil {
		return nil, err
	}
	var newest *Task
	for _, t := range all {
		if t.Name == name && t.Group == group && (newest == nil || t.CreatedAt.After(newest.CreatedAt)) {
			newest = t
		}
	}
	return newest, nil
}

// UpOptions configures Up and Down.
type UpOptions struct {
	// Names selects declared tasks (Up adds their dependencies); empty
	// means all of them.
	Names []string
	// OnTask, when set, is called as soon as each task is dealt with.
	OnTask func(UpResult)
	// Stop configures how Down stops each task.
	Stop StopOptions
}

// declared returns the config's declared tasks, failing when there are none.
func (m *Manager) declared() (*Config, error) {
	c := &m.Config
	if len(c.Tasks) == 0 {
		where := c.Path
		if where == "" {
			where = "no config file was found (--config, $BGMUX_CONFIG, ./" + ProjectConfigName + " up to the git top-level, $XDG_CONFIG_HOME/bgmux/config.yaml)"
		} else {
			where = where + " declares none"
		}
		return nil, Errorf(KindInvalid, "no declared tasks: %s; add a tasks: section (see config.example.yaml)", where)
	}
	return c, nil
}

// declaredStart is the StartOptions of the declared task name.
func (m *Manager) declaredStart(c *Config, name string) StartOptions {
	t := c.Tasks[name]
	dir := c.Dir()
	cwd := dir
	if t.Cwd != "" {
		cwd = t.Cwd
		if !filepath.IsAbs(cwd) {
			cwd = filepath.Join(dir, cwd)
		}
	}
	group := t.Group
	if group == "" {
		group = DefaultGroup(dir)
	}
	env := make([]string, 0, len(t.Env))
	for k, v := range t.Env {
		env = append(env, k+"="+v)
	}
	var envFiles []string
	if t.EnvFile != "" {
		f := t.EnvFile
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		envFiles = []string{f}
	}
	var maxRestarts *int
	if t.MaxRestarts != nil {
		n := int(*t.MaxRestarts)
		maxRestarts = &n
	}
	abs, err := filepath.Abs(c.Path)
	if err != nil {
		abs = c.Path
	}
	return StartOptions{
		Name: name, Group: group, Cwd: cwd, Env: env, EnvFiles: envFiles, Tags: t.Tags, Restart: t.Restart,
		MaxRestarts: maxRestarts, Reuse: true, Declared: abs, Autostart: t.Autostart,
		Command: append([]string(nil), t.Command...),
	}
}

// liveDeclared finds the live task holding name in group, nil when none.
func (m *Manager) liveDeclared(name, group string) (*Task, error) {
	all, _, err := m.Store.loadAll() // up and down print no warnings
	if err != nil {
		return nil, err
	}
	for _, t := range all {
		if t.Name == name && t.Group == group && t.Live() {
			return t, nil
		}
	}
	return nil, nil
}

// Up starts the declared tasks (opts.Names and their dependencies, or
// all) that are not already live, dependencies first. Before starting a
// task it waits for each dependency's ready line (from the start of the
// dependency's current run) for that dependency's ready_timeout; a
// dependency that ends or times out stops Up with an error naming it and
// showing its last lines. Every task's options are checked before
// anything starts.
func (m *Manager) Up(ctx context.Context, opts UpOptions) ([]UpResult, error) {
	c, err := m.declared()
	if err != nil {
		return nil, err
	}
	order, err := c.declaredOrder(opts.Names)
	if err != nil {
		return nil, err
	}
	starts := map[string]StartOptions{}
	for _, name := range order {
		so := m.declaredStart(c, name)
		if _, err := m.buildSpec(so); err != nil {
			return nil, wrap(err, "declared task %s (%s)", name, c.Path)
		}
		starts[name] = so
	}
	var results []UpResult
	tasks := map[string]*Task{}
	ready := map[string]bool{}
	for _, name := range order {
		for _, dep := range c.Tasks[name].DependsOn {
			if ready[dep] {
				continue
			}
			if err := m.waitReady(ctx, c, dep, tasks[dep], name); err != nil {
				return results, err
			}
			ready[dep] = true
		}
		before := time.Now()
		t, err := m.Start(ctx, starts[name])
		if err != nil {
			return results, wrap(err, "up: start %s", name)
		}
		action := ActionStarted
		if t.CreatedAt.Before(before) {
			action = ActionAlreadyRunning
		}
		tasks[name] = t
		r := m.upResult(name, action, t)
		results = append(results, r)
		if opts.OnTask != nil {
			opts.OnTask(r)
		}
	}
	return results, nil
}

// waitReady waits for the declared task dep (started as t) to print its
// ready line, before its dependent starts.
func (m *Manager) waitReady(ctx context.Context, c *Config, dep string, t *Task, dependent string) error {
	re := c.Tasks[dep].ReadyRegexp()
	if t == nil {
		return Errorf(KindFailed, "up: %s was not started", dep)
	}
	if re == nil {
		// No ready line declared: started is ready, unless it already ended.
		if nt, err := m.Store.load(t.ID); err == nil && !nt.Live() {
			return Errorf(KindFailed, "up: %s, which %s depends on, is %s; see bgmux logs %s", dep, dependent, nt.State, nt.ID)
		}
		return nil
	}
	timeout := c.Tasks[dep].ReadyWait()
	res, err := m.Wait(ctx, t, WaitOptions{For: re, Timeout: timeout, Tail: 10, Ready: true})
	if err != nil {
		return wrap(err, "up: wait for %s to be ready", dep)
	}
	if res.Matched {
		return nil
	}
	var why string
	if res.TimedOut {
		why = fmt.Sprintf("did not print a line matching %q within %v (ready_timeout)", re.String(), timeout)
	} else {
		state := "ended"
		if res.Task != nil {
			state = string(res.Task.State)
			if res.Task.ExitCode != nil && res.Task.State == Exited {
				state = fmt.Sprintf("exited %d", *res.Task.ExitCode)
			}
		}
		why = fmt.Sprintf("%s before printing a line matching %q", state, re.String())
	}
	msg := fmt.Sprintf("up: %s (%s) %s; not starting %s", dep, t.ID, why, dependent)
	if len(res.Tail) > 0 {
		msg += "\nlast lines of " + dep + ":\n  " + strings.Join(res.Tail, "\n  ")
	} else {
		msg += "\n" + dep + " printed nothing"
	}
	return Errorf(KindFailed, "%s", msg)
}

// Down stops the live declared tasks (opts.Names, or all), dependents
// before what they depend on.
func (m *Manager) Down(ctx context.Context, opts UpOptions) ([]UpResult, error) {
	c, err := m.declared()
	if err != nil {
		return nil, err
	}
	var order []string
	if len(opts.Names) == 0 {
		order, _ = c.declaredOrder(nil)
	} else {
		all, _ := c.declaredOrder(nil)
		want := map[string]bool{}
		for _, n := range opts.Names {
			if _, ok := c.Tasks[n]; !ok {
				return nil, Errorf(KindInvalid, "no declared task named %s in %s; declared: %s", n, c.Path, strings.Join(c.TaskNames(), ", "))
			}
			want[n] = true
		}
		for _, n := range all {
			if want[n] {
				order = append(order, n)
			}
		}
	}
	var results []UpResult
	for i := len(order) - 1; i >= 0; i-- {
		name := order[i]
		so := m.declaredStart(c, name)
		t, err := m.liveDeclared(name, so.Group)
		if err != nil {
			return results, err
		}
		var r UpResult
		if t != nil {
			st, err := m.Stop(ctx, t, opts.Stop)
			if err != nil {
				return results, wrap(err, "down: stop %s", name)
			}
			r = m.upResult(name, ActionStopped, st)
		} else {
			old, err := m.newestDeclared(name, so.Group)
			if err != nil {
				return results, err
			}
			r = m.upResult(name, ActionNotRunning, old)
		}
		results = append(results, r)
		if opts.OnTask != nil {
			opts.OnTask(r)
		}
	}
	return results, nil
}
