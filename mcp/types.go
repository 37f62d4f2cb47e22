package mcp

import (
	"encoding/json"
	"errors"

	"github.com/bgmux/bgmux/tasks"
)

// The input of each tool. Field descriptions (the jsonschema tags) are
// what a model reads in tools/list; a field is required only when its
// json tag has no omitempty.

// StartInput is the input of start_task.
type StartInput struct {
	Command Command           `json:"command" jsonschema:"What to run. A string is a shell command line run with sh -c (pipes, &&, globs work), e.g. \"npm run dev\". A list of strings is an argv run directly without a shell, e.g. [\"python3\", \"-m\", \"http.server\"]; a one-element list is the same as a string."`
	Name    string            `json:"name,omitempty" jsonschema:"Task name, unique among the group's live tasks (letters, digits, '_' and '-'). Default: derived from the command. Use it to refer to the task later."`
	Group   string            `json:"group,omitempty" jsonschema:"Group (the tmux session) the task belongs to. Default: the name of the git repository (or directory) of cwd."`
	Cwd     string            `json:"cwd,omitempty" jsonschema:"Working directory of the task, absolute or relative to the server's directory. Default: the directory bgmux mcp was started in."`
	Env     map[string]string `json:"env,omitempty" jsonschema:"Extra environment variables for the task, e.g. {\"PORT\": \"8080\"}. The task also inherits the server's environment."`
	EnvFile string            `json:"env_file,omitempty" jsonschema:"A file of environment variables for the task, read by the server when the task starts: KEY=VALUE lines (the value taken literally: no quotes removed), a KEY alone for its value in the server's environment, # comments. Absolute, or relative to the server's directory (like cwd). env wins over it. Use it for secrets: no value then passes through this conversation."`
	Tags    []string          `json:"tags,omitempty" jsonschema:"Labels for filtering with list_tasks (letters, digits, '_' and '-')."`
	Restart string            `json:"restart,omitempty" jsonschema:"Restart policy: never (default), on-failure (restart after a non-zero exit or a signal) or always. Restarts back off from 1s to 60s."`
	// MaxRestarts is a pointer so that 0 (never restart automatically) is
	// told apart from unset.
	MaxRestarts *int   `json:"max_restarts,omitempty" jsonschema:"With restart: stop restarting after this many automatic restarts. Default: no limit."`
	Reuse       bool   `json:"reuse,omitempty" jsonschema:"With name: if a live task of that name already exists in the group and runs the same command (same cwd and env keys), return it instead of failing; a live task running something else is a conflict that names the difference. Use it when retrying, so a second copy of a server is never started."`
	WaitFor     string `json:"wait_for,omitempty" jsonschema:"After starting, wait until an output line matches this regular expression (RE2 syntax, e.g. 'listening on port (\\d+)'), instead of sleeping. The result then is the wait result: the matching line and its capture groups."`
	// TimeoutS is a pointer so that a given 0 is told apart from unset.
	TimeoutS *float64 `json:"timeout_s,omitempty" jsonschema:"With wait_for: give up waiting after this many seconds (default 30; 0 means no limit). The task keeps running after a timeout."`
}

// TaskInput is the input of the tools that take only a task.
type TaskInput struct {
	Task string `json:"task" jsonschema:"The task: its id (bg-...), its name, or a unique id prefix."`
}

// ListInput is the input of list_tasks.
type ListInput struct {
	Group string `json:"group,omitempty" jsonschema:"List this group only. Default: the group of the server's directory."`
	All   bool   `json:"all,omitempty" jsonschema:"List the tasks of every group."`
	Tag   string `json:"tag,omitempty" jsonschema:"Only tasks carrying this tag."`
	State string `json:"state,omitempty" jsonschema:"Only tasks in this state: starting, running, exited, killed or lost."`
}

// ReadInput is the input of read_output.
type ReadInput struct {
	Task string `json:"task" jsonschema:"The task: its id (bg-...), its name, or a unique id prefix."`
	New  bool   `json:"new,omitempty" jsonschema:"Return only output this session has not read yet, and mark it read: call again later to get just what was printed since. Without it the whole log is read (see tail)."`
	Tail int    `json:"tail,omitempty" jsonschema:"Only the last N lines. Without tail or head at most 500 lines are returned: the last 500, or with new the first 500 unread (more=true then says to call again)."`
	Head int    `json:"head,omitempty" jsonschema:"Only the first N lines; with new the rest stays unread for the next call (more=true says there is more)."`
	Grep string `json:"grep,omitempty" jsonschema:"Only lines matching this regular expression (RE2 syntax), tried on the cleaned line."`
	Raw  bool   `json:"raw,omitempty" jsonschema:"Lines as the task wrote them, terminal escape sequences and carriage returns kept. Default: cleaned, as a person saw them."`
	// Reader is the cursor of New; empty means the session's own.
	Reader string `json:"reader,omitempty" jsonschema:"With new: the name of the cursor to use. Default: one private to this MCP session (its name is in the result's reader field). Pass a fixed name to share a cursor between sessions or to continue after a restart of the client."`
}

// WaitInput is the input of wait_task.
type WaitInput struct {
	Task        string   `json:"task" jsonschema:"The task: its id (bg-...), its name, or a unique id prefix."`
	For         string   `json:"for,omitempty" jsonschema:"Wait until a line of the current run's output matches this regular expression (RE2 syntax); lines printed before the call count too (see new and since_offset). Without it, wait until the current run ends."`
	TimeoutS    *float64 `json:"timeout_s,omitempty" jsonschema:"Give up after this many seconds (default 30; 0 means no limit). A timeout is an error result; the task keeps running, and calling again is safe."`
	New         bool     `json:"new,omitempty" jsonschema:"With for: look only at output that read_output with new=true has not returned yet (the reader's cursor; it is not moved), so a line seen before cannot match again."`
	Reader      string   `json:"reader,omitempty" jsonschema:"With new: the cursor to start from. Default: this session's own, as read_output uses."`
	SinceOffset *int64   `json:"since_offset,omitempty" jsonschema:"With for: look only at lines that begin at or after this log offset (from read_output, or an earlier wait result: its offset plus 1 skips that matched line)."`
}

// SendInput is the input of send_input.
type SendInput struct {
	Task     string   `json:"task" jsonschema:"The task: its id (bg-...), its name, or a unique id prefix."`
	Text     string   `json:"text,omitempty" jsonschema:"Text typed literally into the task's terminal (no key names are interpreted)."`
	Enter    *bool    `json:"enter,omitempty" jsonschema:"Press Enter after text, before key. Default: true when text is given without key, false with key (the keys then follow the text directly, e.g. text 'git chec' with key 'Tab' completes)."`
	WaitFor  string   `json:"wait_for,omitempty" jsonschema:"Then wait until a line of output printed after the text was sent matches this regular expression (RE2 syntax), in the same call: earlier output never matches. The terminal's echo of the text is output too, so anchor it (e.g. '^42$'). The result then is the wait result, as wait_task's."`
	TimeoutS *float64 `json:"timeout_s,omitempty" jsonschema:"With wait_for: give up after this many seconds (default 30; 0 means no limit). A timeout is an error result; the task keeps running."`
	Key      string   `json:"key,omitempty" jsonschema:"Named keys pressed right after the text (no Enter between unless enter=true; add 'Enter' here where wanted), in tmux's syntax, separated by spaces: e.g. 'C-c' (interrupt, like Ctrl-C), 'Escape', 'Up Enter', 'Tab', 'M-x', 'F5', or one character."`
}

// StopInput is the input of stop_task.
type StopInput struct {
	Task   string   `json:"task" jsonschema:"The task: its id (bg-...), its name, or a unique id prefix."`
	Signal string   `json:"signal,omitempty" jsonschema:"First signal sent to the task's whole process group, by name (TERM, INT, HUP, KILL...) or number. Default TERM."`
	GraceS *float64 `json:"grace_s,omitempty" jsonschema:"Seconds to wait after the signal before SIGKILL. Default 5 (config stop_grace)."`
}

// RemoveInput is the input of remove_task.
type RemoveInput struct {
	Task  string `json:"task" jsonschema:"The task: its id (bg-...), its name, or a unique id prefix."`
	Force bool   `json:"force,omitempty" jsonschema:"Kill the task first if it is still live. Without it only a finished task (exited, killed, lost) is removed."`
}

// Command is start_task's command: a JSON string (a shell command line)
// or a list of strings (an argv).
type Command []string

// UnmarshalJSON accepts a string or a list of strings.
func (c *Command) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = Command{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("command must be a string or a list of strings")
	}
	*c = list
	return nil
}

// The structured results that are not a task object. Each is the
// document the CLI prints with --json, except that list_tasks wraps the
// CLI's array in an object (MCP structured content is an object).

// TaskList is the result of list_tasks: bgmux list --json, as "tasks".
type TaskList struct {
	Tasks []*tasks.Task `json:"tasks"`
	// Warnings are problems met while reading the state directory, such
	// as a task whose files are corrupt (it is left out of Tasks); []
	// when there were none.
	Warnings []string `json:"warnings"`
}

// WaitResult is the result of wait_task and of start_task with wait_for:
// the document of bgmux wait --json and bgmux start --wait-for --json.
type WaitResult = tasks.WaitReport

// newWaitResult renders a tasks.WaitResult as the CLI does.
func newWaitResult(res *tasks.WaitResult) *WaitResult { return res.Report() }

// SendResult is the result of send_input: bgmux send --json.
type SendResult struct {
	Sent bool        `json:"sent"`
	Task *tasks.Task `json:"task"`
}

// RemoveResult is the result of remove_task: bgmux rm --json.
type RemoveResult struct {
	Removed []*tasks.Task `json:"removed"`
}
