package supervisor

import (
	"testing"
	"time"

	"github.com/bgmux/bgmux/tasks"
)

func TestNextBackoff(t *testing.T) {
	var got []time.Duration
	d := time.Duration(0)
	for i := 0; i < 9; i++ {
		d = nextBackoff(d, time.Second)
		got = append(got, d)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoff sequence %v, want %v seconds", got, want)
		}
	}
	if d := nextBackoff(60*time.Second, 61*time.Second); d != time.Second {
		t.Fatalf("after a healthy minute the backoff is %v, want 1s", d)
	}
	if d := nextBackoff(8*time.Second, 59*time.Second); d != 16*time.Second {
		t.Fatalf("after a 59s run the backoff is %v, want 16s", d)
	}
}

func TestWantsRestart(t *testing.T) {
	zero, one, two := 0, 1, 2
	term := "SIGTERM"
	st := tasks.OpenStore(t.TempDir())
	cases := []struct {
		policy   string
		max      *int
		restarts int
		ex       tasks.Exit
		stopping bool
		want     bool
	}{
		{"never", nil, 0, tasks.Exit{ExitCode: &one}, false, false},
		{"on-failure", nil, 0, tasks.Exit{ExitCode: &one}, false, true},
		{"on-failure", nil, 0, tasks.Exit{ExitCode: &zero}, false, false},
		{"on-failure", nil, 0, tasks.Exit{Signal: &term}, false, true},
		{"always", nil, 5, tasks.Exit{ExitCode: &zero}, false, true},
		{"always", &two, 2, tasks.Exit{ExitCode: &zero}, false, false},
		{"always", &two, 1, tasks.Exit{ExitCode: &zero}, false, true},
		{"always", nil, 0, tasks.Exit{ExitCode: &zero}, true, false},
		{"on-failure", &zero, 0, tasks.Exit{ExitCode: &one}, false, false},
	}
	for i, c := range cases {
		s := &supervisor{store: st, spec: &tasks.Spec{ID: "bg-test00", Restart: c.policy, MaxRestarts: c.max}, stopping: c.stopping}
		if got := s.wantsRestart(&c.ex, c.restarts); got != c.want {
			t.Errorf("case %d (%s, max %v, restarts %d, stopping %v): %v, want %v", i, c.policy, c.max, c.restarts, c.stopping, got, c.want)
		}
	}
}
