package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgmux/bgmux/tasks"
)

// serviceOptions are the parsed flags of service install.
type serviceOptions struct {
	print  bool
	config string // the global --config, for the unit's environment
}

func serviceCommand(stdio IO, runF func(*serviceOptions) error) *ucli.Command {
	o := &serviceOptions{}
	return &ucli.Command{
		Name:  "service",
		Usage: "boot integration: run bgmux restore at login or boot",
		Subcommands: []*ucli.Command{{
			Name:  "install",
			Usage: "write the systemd user unit " + tasks.ServiceUnitName + " that runs bgmux restore",
			Flags: []ucli.Flag{
				&ucli.BoolFlag{Name: "print", Usage: "print the unit instead of writing it", Destination: &o.print},
			},
			OnUsageError: func(c *ucli.Context, err error, _ bool) error {
				return &usageError{msg: usageMessage(c, err)}
			},
			Action: func(c *ucli.Context) error {
				if c.NArg() > 0 {
					return &usageError{msg: "service install takes no arguments; see bgmux service install --help"}
				}
				o.config = c.String("config")
				if runF != nil {
					return runF(o)
				}
				return runServiceInstall(c.Context, stdio, lazyManager(c), o)
			},
		}},
	}
}

// runServiceInstall writes (or prints) the systemd user unit.
func runServiceInstall(_ context.Context, stdio IO, getM managerFunc, o *serviceOptions) error {
	m, err := getM()
	if err != nil {
		return err
	}
	exe, err := m.StableBinary()
	if err != nil {
		return err
	}
	unit, err := tasks.ServiceUnit(exe, serviceEnv(o.config, m))
	if err != nil {
		return err
	}
	if o.print {
		fmt.Fprint(stdio.Out, unit)
		return nil
	}
	path, err := tasks.ServiceUnitPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(stdio.Out, "wrote %s\n", path)
	fmt.Fprintf(stdio.Out, "enable it (runs bgmux restore at every login):\n  systemctl --user daemon-reload && systemctl --user enable --now %s\n", tasks.ServiceUnitName)
	fmt.Fprintf(stdio.Out, "to restore at boot without a login, let your user manager run without a session:\n  loginctl enable-linger $USER\n")
	return nil
}

// serviceEnv is the environment the unit gives bgmux restore: the state
// dir, socket and config this bgmux uses when set explicitly, and PATH so
// tmux is found as it is here.
func serviceEnv(config string, m *tasks.Manager) []tasks.EnvVar {
	var env []tasks.EnvVar
	if os.Getenv("BGMUX_STATE_DIR") != "" {
		env = append(env, tasks.EnvVar{Name: "BGMUX_STATE_DIR", Value: m.Store.Dir})
	}
	if s := os.Getenv("BGMUX_SOCKET"); s != "" {
		env = append(env, tasks.EnvVar{Name: "BGMUX_SOCKET", Value: s})
	}
	cfg := config
	if cfg == "" {
		cfg = os.Getenv("BGMUX_CONFIG")
	}
	if cfg != "" {
		if abs, err := filepath.Abs(cfg); err == nil {
			env = append(env, tasks.EnvVar{Name: "BGMUX_CONFIG", Value: abs})
		}
	}
	if p := os.Getenv("PATH"); p != "" {
		env = append(env, tasks.EnvVar{Name: "PATH", Value: p})
	}
	return env
}
