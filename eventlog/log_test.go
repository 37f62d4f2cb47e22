package eventlog

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
)

func ev(kind, id string) Event {
	return Event{Event: kind, ID: id, Name: "n-" + id, Group: "g", Run: 1, Message: kind}
}

// TestEventsAppendConcurrent has 50 writers (each with its own Log, so
// its own descriptors and locks) append at once: every line is whole, the
// seqs are 1..N without gaps or repeats.
func TestEventsAppendConcurrent(t *testing.T) {
	dir := t.TempDir()
	const writers, each = 50, 20
	var wg sync.WaitGroup
	long := strings.Repeat("x", 1500)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			l := New(dir)
			for i := 0; i < each; i++ {
				e := ev(Exited, "w")
				e.Message = long
				if _, err := l.Append(e); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	b, err := os.ReadFile(New(dir).Path())
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if len(lines) != writers*each {
		t.Fatalf("%d lines, want %d", len(lines), writers*each)
	}
	res, err := New(dir).Read(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bad != 0 || len(res.Events) != writers*each {
		t.Fatalf("read %d events, %d bad; want %d, 0", len(res.Events), res.Bad, writers*each)
	}
	for i, e := range res.Events {
		if e.Seq != int64(i+1) || e.Message != long {
			t.Fatalf("event %d: seq %d, message %d bytes", i, e.Seq, len(e.Message))
		}
	}
}

// TestEventsRotation keeps the log under a small bound: two segments at
// most, seqs continue across rotations, and a read from behind the oldest
// kept event says how many it missed.
func TestEventsRotation(t *testing.T) {
	dir := t.TempDir()
	l := &Log{Dir: dir, MaxSize: 2000}
	for i := 0; i < 100; i++ {
		if _, err := l.Append(ev(Started, "a")); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{l.Path(), l.oldPath()} {
		st, err := os.Stat(p)
		if err != nil || st.Size() > 2000 {
			t.Fatalf("%s: %v, %v", p, st, err)
		}
	}
	res, err := l.Read(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Last != 100 || res.First <= 1 || res.Skipped != res.First-1 || res.Dropped() != res.First-1 {
		t.Fatalf("first %d last %d skipped %d", res.First, res.Last, res.Skipped)
	}
	for i, e := range res.Events {
		if e.Seq != res.First+int64(i) {
			t.Fatalf("event %d has seq %d, want %d", i, e.Seq, res.First+int64(i))
		}
	}
	if res, _ := l.Read(99, nil); len(res.Events) != 1 || res.Skipped != 0 {
		t.Fatalf("read after 99: %+v", res)
	}
}

// TestEventsCutLine: a line cut short (a full disk, a crash) is skipped
// by readers and ended by the next append, whose seq follows the last
// whole event.
func TestEventsCutLine(t *testing.T) {
	dir := t.TempDir()
	l := New(dir)
	l.Append(ev(Started, "a"))
	f, _ := os.OpenFile(l.Path(), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":2,"time":"20`)
	f.Close()
	e, err := l.Append(ev(Exited, "a"))
	if err != nil || e.Seq != 2 {
		t.Fatalf("append after a cut line: seq %d, %v", e.Seq, err)
	}
	res, _ := l.Read(0, nil)
	if len(res.Events) != 2 || res.Bad != 1 || res.Events[1].Event != Exited {
		t.Fatalf("read: %+v", res)
	}
}

// TestEventsCursorExactlyOnce: 20 concurrent readers with one key, while
// events are appended, get every event exactly once between them.
func TestEventsCursorExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	const total = 300
	var mu sync.Mutex
	seen := map[int64]int{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	read := func() {
		res, err := New(dir).ReadNew("r", nil)
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		for _, e := range res.Events {
			seen[e.Seq]++
		}
		mu.Unlock()
	}
	for r := 0; r < 20; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					read()
					return
				default:
					read()
				}
			}
		}()
	}
	l := New(dir)
	for i := 0; i < total; i++ {
		if _, err := l.Append(ev(Started, "a")); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if len(seen) != total {
		t.Fatalf("readers got %d distinct events, want %d", len(seen), total)
	}
	for seq, n := range seen {
		if n != 1 || seq < 1 || seq > total {
			t.Fatalf("event %d returned %d times", seq, n)
		}
	}
	// Another key has its own position; a filter consumes what it passes.
	res, _ := l.ReadNew("other", func(e *Event) bool { return e.Seq%2 == 0 })
	if len(res.Events) != total/2 {
		t.Fatalf("filtered read: %d events", len(res.Events))
	}
	if res, _ := l.ReadNew("other", nil); len(res.Events) != 0 {
		t.Fatalf("second read of other: %d events", len(res.Events))
	}
}

// TestEventsOneLine: messages are made one bounded line of valid UTF-8.
func TestEventsOneLine(t *testing.T) {
	l := New(t.TempDir())
	e := ev(Ready, "a")
	line := "a\nb\r\x1b[31m" + strings.Repeat("é", 3000) + "\xff"
	e.Line, e.Message = &line, line
	if _, err := l.Append(e); err != nil {
		t.Fatal(err)
	}
	res, _ := l.Read(0, nil)
	got := res.Events[0]
	if strings.ContainsAny(got.Message, "\n\r\x1b") || len(*got.Line) > maxField || !strings.HasPrefix(got.Message, "a b ") {
		t.Fatalf("message %q", got.Message[:20])
	}
	if err := CheckKey("../x"); err == nil {
		t.Fatal("CheckKey accepted ../x")
	}
}

// TestEventsAppendUnless: an event already in the log is not appended
// again, by any of several concurrent writers.
func TestEventsAppendUnless(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := New(dir).AppendUnless(ev(Ready, "a"), func(e *Event) bool { return e.ID == "a" && e.Event == Ready })
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	res, _ := New(dir).Read(0, nil)
	if len(res.Events) != 1 {
		t.Fatalf("%d events, want 1", len(res.Events))
	}
	if _, ok, _ := New(dir).AppendUnless(ev(Ready, "b"), func(e *Event) bool { return e.ID == "b" }); !ok {
		t.Fatal("an event not in the log was not appended")
	}
}

// TestEventsReadAfter: a read from any position, in either segment of a
// log much larger than one read chunk, returns exactly the events after
// it.
func TestEventsReadAfter(t *testing.T) {
	l := &Log{Dir: t.TempDir(), MaxSize: 300 << 10}
	e := ev(Started, "a")
	e.Message = strings.Repeat("m", 200)
	for i := 0; i < 2500; i++ {
		if _, err := l.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := l.Read(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if all.Last != 2500 || all.First <= 1 {
		t.Fatalf("first %d last %d", all.First, all.Last)
	}
	for _, after := range []int64{0, all.First - 5, all.First, all.First + 1, 1200, 1700, 2000, 2497, 2499, 2500, 3000} {
		res, err := l.Read(after, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := max(after+1, all.First)
		for i, e := range res.Events {
			if e.Seq != want+int64(i) {
				t.Fatalf("after %d: event %d has seq %d, want %d", after, i, e.Seq, want+int64(i))
			}
		}
		if n := max(2500-want+1, 0); int64(len(res.Events)) != n || res.First != all.First || res.Last != 2500 {
			t.Fatalf("after %d: %d events (want %d), first %d, last %d", after, len(res.Events), n, res.First, res.Last)
		}
	}
}
