package tmuxctl

import (
	"errors"
	"strings"
	"testing"
)

// A pane or window that is not on the server is ErrNoTarget, inside the
// *Error that keeps tmux's own message; no server at all is ErrNoServer.
func TestMissingTargetIsErrNoTarget(t *testing.T) {
	s := newTestServer(t)
	ctx := testCtx(t)
	raw(t, s, "new-session", "-d", "-s", "here", "cat")
	cases := []struct {
		what string
		call func() error
		says string
	}{
		{"capture of a missing pane", func() error { _, err := s.Capture(ctx, "%999", 0); return err }, "can't find pane"},
		{"capture of a missing window", func() error { _, err := s.Capture(ctx, "@999", 0); return err }, "can't find window"},
		{"respawn of a missing pane", func() error { return s.RespawnPane(ctx, "%999", "", []string{"true"}) }, "can't find pane"},
		{"key sent to a missing pane", func() error { return s.SendKey(ctx, "%999", "Enter") }, "can't find pane"},
		{"state of a missing window", func() error { return s.SetWindowState(ctx, "@999", "lost") }, "no such window"},
		{"state of a missing pane's window", func() error { return s.SetWindowState(ctx, "%999", "lost") }, "no such window"},
		{"capture in a missing session", func() error { _, err := s.Capture(ctx, "=nosuch:", 0); return err }, "can't find session"},
	}
	for _, c := range cases {
		err := c.call()
		var te *Error
		if !errors.Is(err, ErrNoTarget) || !errors.As(err, &te) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v (%T), want ErrNoTarget in a *Error saying %q", c.what, err, err, c.says)
		}
		if errors.Is(err, ErrNoServer) {
			t.Errorf("%s: %v is ErrNoServer too", c.what, err)
		}
	}
	if _, err := s.Capture(ctx, "here:", 0); err != nil {
		t.Fatalf("capture of an existing window: %v", err)
	}

	gone := newTestServer(t) // no server was ever started on it
	if _, err := gone.Capture(ctx, "%999", 0); !errors.Is(err, ErrNoServer) || errors.Is(err, ErrNoTarget) {
		t.Errorf("capture with no server: %v, want ErrNoServer and not ErrNoTarget", err)
	}
}
