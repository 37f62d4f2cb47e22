package tasks

import (
	"errors"
	"fmt"
)

// Kind classifies an error for exit statuses and JSON error objects.
type Kind string

// The error kinds bgmux reports; cli maps them to exit statuses.
const (
	KindNotFound  Kind = "not_found"        // unknown task
	KindInvalid   Kind = "invalid_input"    // bad flag value, name, command...
	KindAmbiguous Kind = "ambiguous"        // TASK matches several tasks
	KindConflict  Kind = "conflict"         // the operation clashes with a task's state
	KindTmux      Kind = "tmux_unavailable" // tmux missing or its server unusable
	KindFailed    Kind = "failed"           // anything else that went wrong
)

// Error is an error with a Kind and a message that says what to do.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
	// Status, when not 0, is the exit status the CLI ends with instead
	// of the kind's (127 for a command that could not be executed).
	Status int
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error of the given kind.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err, KindFailed when it carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindFailed
}

// StatusOf returns the exit status an Error in err's chain asks for, 0
// when none does.
func StatusOf(err error) int {
	for ; err != nil; err = errors.Unwrap(err) {
		if e, ok := err.(*Error); ok && e.Status != 0 {
			return e.Status
		}
	}
	return 0
}

// wrap adds context to err while keeping its kind.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindOf(err), Msg: fmt.Sprintf(format, args...), Err: stripKind(err)}
}

// stripKind avoids repeating a wrapped Error's kind-only shell.
func stripKind(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Msg == "" && e.Err != nil {
		return e.Err
	}
	return err
}
