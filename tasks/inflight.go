package tasks

import (
	"sync"
	"time"
)

// inflight are this process's starts that have been accepted but have
// not yet recorded their task: until reserve writes the spec and the name
// index, a name resolves to nothing. A front end that runs calls in
// parallel (an MCP client running one turn's tool calls at once) must
// not answer "no task" for a name whose start is under way: Resolve waits
// for such a start to record its task (or to fail) and looks again.
var inflight = struct {
	mu sync.Mutex
	// starts maps store directory and name to the starts in progress.
	starts map[inflightKey][]chan struct{}
}{starts: map[inflightKey][]chan struct{}{}}

type inflightKey struct{ dir, name string }

// inflightWait bounds how long Resolve waits for a start in progress (one
// held at a busy store lock, say) before it answers without it.
const inflightWait = startingGrace

// beginStart records a start of name in progress; the returned function
// ends it (once the task is recorded, or the start failed) and may be
// called more than once.
func (s *Store) beginStart(name string) func() {
	if name == "" {
		return func() {}
	}
	k := inflightKey{s.Dir, name}
	ch := make(chan struct{})
	inflight.mu.Lock()
	inflight.starts[k] = append(inflight.starts[k], ch)
	inflight.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			inflight.mu.Lock()
			list := inflight.starts[k]
			for i, c := range list {
				if c == ch {
					list = append(list[:i], list[i+1:]...)
					break
				}
			}
			if len(list) == 0 {
				delete(inflight.starts, k)
			} else {
				inflight.starts[k] = list
			}
			inflight.mu.Unlock()
			close(ch)
		})
	}
}

// awaitStarts waits for this process's starts of name in progress to
// record their tasks (at most inflightWait); it reports whether there
// were any.
func (s *Store) awaitStarts(name string) bool {
	inflight.mu.Lock()
	list := append([]chan struct{}(nil), inflight.starts[inflightKey{s.Dir, name}]...)
	inflight.mu.Unlock()
	if len(list) == 0 {
		return false
	}
	deadline := time.NewTimer(inflightWait)
	defer deadline.Stop()
	for _, ch := range list {
		select {
		case <-ch:
		case <-deadline.C:
			return true
		}
	}
	return true
}
