package mcp

import (
	"fmt"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// beatInterval is how often a call that is still working sends progress.
// OpenCode cancels a tool call after 60 s without progress; any call that
// can last (a stop's grace period, a restart, a wait) sends it.
const beatInterval = time.Second

// heartbeat sends the progress notifications of one call that carries a
// progress token: the call's own (a wait's latest output), and every
// beatInterval a plain "still working" while nothing else was sent.
type heartbeat struct {
	token any
	start time.Time

	mu    sync.Mutex
	last  time.Time // when progress was last sent
	value float64   // the last progress value sent (it must increase)
	doing string    // what the call is doing, for the plain beats
	own   bool      // the call sends its own progress (a wait)
	done  bool      // the call has returned: nothing more is sent
	stop  chan struct{}
	ended chan struct{}
}

// startHeartbeat starts c's heartbeat when its client asked for progress;
// the returned function stops it, and returns once nothing more can be
// sent.
func startHeartbeat(c *call, tool string) func() {
	tok := c.req.Params.GetProgressToken()
	if tok == nil || c.req.Session == nil {
		return func() {}
	}
	b := &heartbeat{token: tok, start: time.Now(), doing: tool + " is working", stop: make(chan struct{}), ended: make(chan struct{})}
	b.last = b.start
	c.beat = b
	go func() {
		defer close(b.ended)
		tick := time.NewTicker(beatInterval / 4)
		defer tick.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-c.ctx.Done():
				return
			case <-tick.C:
				b.mu.Lock()
				// A call with its own progress gets the plain beat only
				// when its own falls silent.
				gap := beatInterval
				if b.own {
					gap = 2 * beatInterval
				}
				due, doing := time.Since(b.last) >= gap, b.doing
				b.mu.Unlock()
				if due {
					b.send(c, fmt.Sprintf("%s (%.0fs)", doing, time.Since(b.start).Seconds()), true)
				}
			}
		}
	}()
	return func() {
		b.mu.Lock()
		b.done = true
		b.mu.Unlock()
		close(b.stop)
		<-b.ended
	}
}

// send sends one progress notification, unless the call has returned,
// or (for a call's own progress, plain false) one was sent less than
// beatInterval ago.
func (b *heartbeat) send(c *call, msg string, plain bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done || !plain && time.Since(b.last) < beatInterval {
		return
	}
	v := time.Since(b.start).Seconds()
	if v <= b.value {
		return
	}
	b.value, b.last = v, time.Now()
	// Sent with the lock held: notifications go out in order, and none
	// after the call has returned.
	c.req.Session.NotifyProgress(c.ctx, &sdk.ProgressNotificationParams{ProgressToken: b.token, Progress: v, Message: msg})
}

// working sets what c's plain progress beats say it is doing.
func (c *call) working(format string, args ...any) {
	if c.beat == nil {
		return
	}
	c.beat.mu.Lock()
	c.beat.doing = fmt.Sprintf(format, args...)
	c.beat.mu.Unlock()
}
