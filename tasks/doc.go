// Package tasks is what a bgmux task is, and the operations on tasks: the
// spec and the records a task's directory holds (run, exit, window,
// history), the Store (the state directory: ids, the name index, locks,
// damaged records set aside), how a task's state is derived, and the
// Manager, which starts, resolves, lists, reads, waits on, types into,
// stops, restarts, removes, restores and shows tasks. It asks tmuxctl for
// windows, tasklog for output, control for a live supervisor, proc for
// liveness and eventlog for events.
//
// It must not import supervisor (which runs a task), cli or mcp.
package tasks
