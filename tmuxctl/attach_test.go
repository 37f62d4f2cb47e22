package tmuxctl

import (
	"slices"
	"strings"
	"testing"
)

func TestPlanAttach(t *testing.T) {
	s := &Server{Socket: "bgmux-test-plan"}
	base := []string{"PATH=/usr/bin", "HOME=/home/u"}

	plain := s.PlanAttach("@7", base)
	want := []string{"tmux", "-L", "bgmux-test-plan", "-f", "/dev/null", "attach-session", "-t", "@7"}
	if plain.Switch || !slices.Equal(plain.Argv, want) || !slices.Equal(plain.Env, base) {
		t.Fatalf("from a plain terminal: %+v, want attach-session %q with env unchanged", plain, want)
	}

	other := s.PlanAttach("@7", append(base, "TMUX=/tmp/tmux-1/other,123,0", "TMUX_PANE=%3"))
	if other.Switch || !slices.Equal(other.Argv, want) || !slices.Equal(other.Env, base) {
		t.Fatalf("from another server: %+v, want attach-session with TMUX and TMUX_PANE dropped", other)
	}

	same := s.PlanAttach("@7", append(base, "TMUX="+s.SocketPath()+",123,0", "TMUX_PANE=%3"))
	if !same.Switch || !slices.Equal(same.Argv[len(same.Argv)-3:], []string{"switch-client", "-t", "@7"}) || !slices.Contains(same.Env, "TMUX_PANE=%3") {
		t.Fatalf("from the same server: %+v, want switch-client with the environment kept", same)
	}

	// The user's default server reached from inside another one names its
	// socket, since TMUX is dropped.
	def := &Server{Socket: UserSocket}
	p := def.PlanAttach("@1", append(base, "TMUX=/tmp/tmux-1/other,1,0"))
	if p.Switch || !strings.Contains(strings.Join(p.Argv, " "), "-S "+def.SocketPath()+" attach-session") {
		t.Fatalf("default server from another: %+v", p)
	}
}

func TestAttachPlanCommandLine(t *testing.T) {
	p := AttachPlan{Argv: []string{"tmux", "-L", "my socket", "-f", "/dev/null", "attach-session", "-t", "@7"}}
	if got, want := p.CommandLine(), `tmux -L 'my socket' -f /dev/null attach-session -t @7`; got != want {
		t.Fatalf("CommandLine = %q, want %q", got, want)
	}
}
