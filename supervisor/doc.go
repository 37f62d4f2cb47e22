// Package supervisor is what runs as each task's tmux window command
// (bgmux __supervise): it claims the task, gives each run a
// pseudo-terminal of its own and is its only reader, writes every byte
// to the task's log (tasklog) before copying it to the panes showing the
// task through buffers that drop rather than wait, relays what is typed
// and the window's size, records each run and its end (tasks' records,
// the exit only once the terminal is drained), applies the restart
// policy, and answers on the task's control socket (control): restarts,
// input for a task without a window, and viewers. It also holds the
// viewer (bgmux __view), the window command of a task whose own window
// went away.
//
// It may import tasks and the packages below it; nothing imports it but
// cli.
package supervisor
