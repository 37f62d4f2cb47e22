package tmuxctl

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// AttachPlan says how a human gets to a window: attach-session from a plain
// terminal (or from inside a different tmux server), switch-client from
// inside the same server, where attaching would nest.
type AttachPlan struct {
	// Switch is true when the caller is a client of this same server.
	Switch bool
	// Argv is the tmux command to run.
	Argv []string
	// Env is the environment to run it with (TMUX removed for attach).
	Env []string
}

// CommandLine is the plan as a line a human can paste into a shell.
func (p AttachPlan) CommandLine() string {
	words := make([]string, len(p.Argv))
	for i, w := range p.Argv {
		words[i] = ShellQuote(w)
	}
	return strings.Join(words, " ")
}

// PlanAttach decides how to reach target (a "session:window" target or a
// window id) given the caller's environment.
func (s *Server) PlanAttach(target string, env []string) AttachPlan {
	inside := lookupEnv(env, "TMUX")
	same := inside != "" && sameSocket(strings.SplitN(inside, ",", 2)[0], s.SocketPath())
	if same {
		return AttachPlan{Switch: true, Argv: append(append([]string{"tmux"}, s.baseArgs()...), "switch-client", "-t", Arg(target)), Env: env}
	}
	var clean []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "TMUX=") && !strings.HasPrefix(kv, "TMUX_PANE=") {
			clean = append(clean, kv)
		}
	}
	if !s.Private() && inside != "" {
		// The user's default server, reached from inside another server:
		// name the default socket explicitly since TMUX is dropped.
		return AttachPlan{Argv: []string{"tmux", "-S", s.SocketPath(), "attach-session", "-t", Arg(target)}, Env: clean}
	}
	return AttachPlan{Argv: append(append([]string{"tmux"}, s.baseArgs()...), "attach-session", "-t", Arg(target)), Env: clean}
}

// Attach runs the plan with the given terminal streams and returns when the
// client detaches (or at once for switch-client).
func (s *Server) Attach(ctx context.Context, plan AttachPlan, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := exec.CommandContext(ctx, plan.Argv[0], plan.Argv[1:]...)
	cmd.Env = plan.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	return cmd.Run()
}

func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if strings.HasPrefix(env[i], key+"=") {
			return env[i][len(key)+1:]
		}
	}
	return ""
}

func sameSocket(a, b string) bool {
	if a == b {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}
