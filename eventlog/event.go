package eventlog

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Event kinds.
const (
	Started    = "started"    // a run's child started (PID)
	Ready      = "ready"      // a ready check (start --wait-for, up's ready) matched (Line)
	Exited     = "exited"     // a run ended with an exit code (ExitCode, ExitStatus)
	Killed     = "killed"     // a run was killed by a signal (Signal, ExitStatus)
	Lost       = "lost"       // a run ended unobserved, found by restore (LostReason)
	Restarting = "restarting" // the restart policy will run the task again (RestartAt)
	GaveUp     = "gave_up"    // the restart policy reached max_restarts
	Stopped    = "stopped"    // bgmux stop ended the task
)

// Kinds lists every event kind, in the order of a task's life.
var Kinds = []string{Started, Ready, Exited, Killed, Lost, Restarting, GaveUp, Stopped}

// Event is one line of the log. Every field is always present in the
// JSON (null when it does not apply to the kind), so a consumer can rely
// on the shape.
type Event struct {
	// Seq is the event's position: 1 for the first event ever logged,
	// one more for each later one, across rotations.
	Seq int64 `json:"seq"`
	// Time is when the event was observed (UTC).
	Time time.Time `json:"time"`
	// Event is the kind: one of Kinds.
	Event string `json:"event"`
	// ID, Name and Group say which task; Run is its run number (0 when
	// no run had started).
	ID    string `json:"id"`
	Name  string `json:"name"`
	Group string `json:"group"`
	Run   int    `json:"run"`
	// Message is a one-line human summary ("exited 3 after 2.1s").
	Message string `json:"message"`
	// PID is the child's pid (started).
	PID *int `json:"pid"`
	// ExitCode, Signal and ExitStatus say how a run ended (exited,
	// killed; ExitStatus also for lost, as wait reports it: the exit
	// code, 128+n for signal n, 1 for a lost run).
	ExitCode   *int    `json:"exit_code"`
	Signal     *string `json:"signal"`
	ExitStatus *int    `json:"exit_status"`
	// Line is the output line that matched a ready check (ready).
	Line *string `json:"line"`
	// LostReason says how a run was lost (lost).
	LostReason *string `json:"lost_reason"`
	// RestartAt is when the next run starts (restarting).
	RestartAt *time.Time `json:"restart_at"`
}

// Ends reports whether the event ends a run (exited, killed, lost).
func (e *Event) Ends() bool {
	return e.Event == Exited || e.Event == Killed || e.Event == Lost
}

// Bounds on what one event may carry, so that a line stays far below
// MaxLine and is written with one small write.
const (
	// MaxLine is the longest line the log holds; readers skip longer ones.
	MaxLine = 16 << 10
	// maxField bounds Message and Line (in bytes).
	maxField = 2 << 10
	// maxWord bounds ID, Name, Group, Signal and LostReason.
	maxWord = 256
)

// encode is the event's line, newline included, with its text fields made
// one line and bounded.
func encode(e Event) ([]byte, error) {
	e.Message = oneLine(e.Message, maxField)
	if e.Line != nil {
		l := oneLine(*e.Line, maxField)
		e.Line = &l
	}
	e.ID, e.Name, e.Group, e.Event = oneLine(e.ID, maxWord), oneLine(e.Name, maxWord), oneLine(e.Group, maxWord), oneLine(e.Event, maxWord)
	if e.Signal != nil {
		s := oneLine(*e.Signal, maxWord)
		e.Signal = &s
	}
	if e.LostReason != nil {
		s := oneLine(*e.LostReason, maxField)
		e.LostReason = &s
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// oneLine makes s valid UTF-8 on one line (control characters become
// spaces) and cuts it to at most max bytes at a character boundary.
func oneLine(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// seqPrefix is how every line the log writes begins: the seq is read
// from it without decoding the whole line.
const seqPrefix = `{"seq":`

// lineSeq returns the seq of a line written by encode, or false for a
// line that is not one (cut short, damaged).
func lineSeq(line []byte) (int64, bool) {
	if len(line) < len(seqPrefix)+2 || string(line[:len(seqPrefix)]) != seqPrefix || line[len(line)-1] != '}' {
		return 0, false
	}
	var n int64
	i := len(seqPrefix)
	start := i
	for ; i < len(line) && line[i] >= '0' && line[i] <= '9'; i++ {
		if n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int64(line[i]-'0')
	}
	if i == start || i >= len(line) || line[i] != ',' {
		return 0, false
	}
	return n, true
}
