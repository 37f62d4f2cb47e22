package supervisor

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"
)

// paneBuffer bounds how far a pane (the supervisor's own, or a viewer's)
// may fall behind the task's output before the oldest unshown bytes are
// dropped: the task never waits for a pane.
const paneBuffer = 256 << 10

// paneRate bounds, in bytes a second, how fast a pane is given output
// during a flood (bursts up to paneBuffer go at once): nobody reads 2 MB a
// second, and a tmux server rendering a flood at full speed takes a core
// from the task. What the pane is not given is dropped, as when it falls
// behind.
const paneRate = 2 << 20

// recentSize is how much recent output a viewer that connects is shown
// before the live output.
const recentSize = 32 << 10

// paneSink copies the task's output to one pane through a bounded ring
// buffer: push never blocks, and when the pane falls more than
// paneBuffer behind, the oldest unshown bytes are dropped, up to the
// start of a line. Where the gap is, the pane is told how much it did
// not show (the log has all of it).
type paneSink struct {
	w    io.Writer
	name string // the task's name, for the note

	mu      sync.Mutex
	cond    *sync.Cond
	ring    []byte
	head    int // index of the oldest unshown byte
	n       int // unshown bytes in ring
	dropped int64
	// skipLine says the oldest queued line was cut by a drop: the rest
	// of it is dropped too, as it arrives.
	skipLine bool
	closed   bool
	dead     bool // a write to the pane failed: it is gone
	done     chan struct{}
}

// newPaneSink starts copying to w (a pane's terminal, in raw mode).
func newPaneSink(w io.Writer, name string) *paneSink {
	s := &paneSink{w: w, name: name, ring: make([]byte, paneBuffer), done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.run()
	return s
}

// push queues p for the pane, dropping the oldest unshown bytes when the
// ring is full, up to a line start: the pane resumes with a whole line.
func (s *paneSink) push(p []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead || s.closed {
		return
	}
	if len(p) >= len(s.ring) {
		s.dropped += int64(s.n + len(p) - len(s.ring))
		p = p[len(p)-len(s.ring):]
		s.head, s.n = 0, 0
		s.skipLine = true
	} else if over := s.n + len(p) - len(s.ring); over > 0 {
		s.head = (s.head + over) % len(s.ring)
		s.n -= over
		s.dropped += int64(over)
		s.skipLine = true
	}
	tail := (s.head + s.n) % len(s.ring)
	c := copy(s.ring[tail:], p)
	copy(s.ring, p[c:])
	s.n += len(p)
	if s.skipLine {
		// The oldest queued line was cut: drop the rest of it, when the
		// line ends in what is queued. Output without a line break (a
		// progress bar redrawn with \r, a full-screen program) is shown
		// as it is: waiting for one would show nothing more.
		s.skipLine = false
		first := s.ring[s.head:min(s.head+s.n, len(s.ring))]
		i := bytes.IndexByte(first, '\n')
		if i < 0 && len(first) < s.n {
			if j := bytes.IndexByte(s.ring[:s.n-len(first)], '\n'); j >= 0 {
				i = len(first) + j
			}
		}
		if i >= 0 {
			s.head = (s.head + i + 1) % len(s.ring)
			s.n -= i + 1
			s.dropped += int64(i + 1)
		}
	}
	s.cond.Signal()
}

// pushNote queues text, the supervisor's own words (a trailer), after
// the output queued so far.
func (s *paneSink) pushNote(text string) { s.push([]byte(text)) }

// notShown is the line that tells a pane how much output it did not show.
func notShown(n int64, name string) string {
	return fmt.Sprintf("\r\n[bgmux] %s not shown here; all of it is in: bgmux logs %s\r\n", humanBytes(n), name)
}

// close lets the sink write what is queued (the trailer) and stop; it
// waits until that is written, the pane has gone, or wait has passed
// (a pane that does not take output: its tmux server is stopped).
func (s *paneSink) close(wait time.Duration) {
	s.mu.Lock()
	s.closed = true
	s.cond.Signal()
	s.mu.Unlock()
	select {
	case <-s.done:
	case <-time.After(wait):
	}
}

// isDead reports whether a write to the pane failed (it is gone).
func (s *paneSink) isDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

// closeNow stops the sink without writing what is left.
func (s *paneSink) closeNow() {
	s.mu.Lock()
	s.closed, s.n = true, 0
	s.cond.Signal()
	s.mu.Unlock()
}

func (s *paneSink) run() {
	defer close(s.done)
	buf := make([]byte, 32<<10)
	tokens, last := float64(paneBuffer), time.Now()
	for {
		s.mu.Lock()
		for s.n == 0 && !s.closed {
			s.cond.Wait()
		}
		if s.n == 0 && s.closed {
			s.mu.Unlock()
			return
		}
		// Where output was dropped, the pane says so, at the gap.
		dropped := s.dropped
		s.dropped = 0
		k := min(s.n, len(buf))
		c := copy(buf, s.ring[s.head:min(s.head+k, len(s.ring))])
		copy(buf[c:k], s.ring)
		s.head = (s.head + k) % len(s.ring)
		s.n -= k
		s.mu.Unlock()
		if dropped > 0 && !s.write([]byte(notShown(dropped, s.name))) || !s.write(buf[:k]) {
			return
		}
		now := time.Now()
		tokens = min(float64(paneBuffer), tokens+now.Sub(last).Seconds()*paneRate) - float64(k)
		last = now
		if tokens < 0 {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if !closed {
				time.Sleep(time.Duration(-tokens / paneRate * float64(time.Second)))
			}
		}
	}
}

// write writes p to the pane; false when the pane is gone.
func (s *paneSink) write(p []byte) bool {
	if _, err := s.w.Write(p); err != nil {
		s.mu.Lock()
		s.dead, s.n = true, 0
		s.mu.Unlock()
		return false
	}
	return true
}

// humanBytes is n as a size a person reads at a glance: 812 B, 12.3 kB,
// 4.5 MB.
func humanBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

// fanout hands each chunk of the task's output to the panes showing it
// and keeps the most recent output for a viewer that connects.
type fanout struct {
	mu     sync.Mutex
	sinks  map[*paneSink]bool
	recent []byte // the last recentSize bytes of output, at most
}

func newFanout() *fanout { return &fanout{sinks: map[*paneSink]bool{}} }

// write gives p to every pane and to the recent output.
func (f *fanout) write(p []byte) {
	f.mu.Lock()
	for s := range f.sinks {
		s.push(p)
	}
	if len(p) >= recentSize {
		f.recent = append(f.recent[:0], p[len(p)-recentSize:]...)
	} else {
		if over := len(f.recent) + len(p) - recentSize; over > 0 {
			f.recent = append(f.recent[:0], f.recent[over:]...)
		}
		f.recent = append(f.recent, p...)
	}
	f.mu.Unlock()
}

// add attaches s; with replay, s first gets the recent output (from a
// line start), so that nothing between the two is missed or repeated.
func (f *fanout) add(s *paneSink, replay bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if replay && len(f.recent) > 0 {
		r := f.recent
		if len(r) == recentSize {
			for i, b := range r {
				if b == '\n' {
					r = r[i+1:]
					break
				}
			}
		}
		s.push(r)
	}
	f.sinks[s] = true
}

// remove detaches s.
func (f *fanout) remove(s *paneSink) {
	f.mu.Lock()
	delete(f.sinks, s)
	f.mu.Unlock()
}

// each calls fn for every attached pane.
func (f *fanout) each(fn func(*paneSink)) {
	f.mu.Lock()
	list := make([]*paneSink, 0, len(f.sinks))
	for s := range f.sinks {
		list = append(list, s)
	}
	f.mu.Unlock()
	for _, s := range list {
		fn(s)
	}
}
