package tasks

import (
	"strings"
	"testing"
)

func TestServiceUnitQuoting(t *testing.T) {
	unit := ServiceUnit("/opt/my tools/bgmux$1", []EnvVar{{"BGMUX_STATE_DIR", `/s/50% "x"\y`}, {"BGMUX_SOCKET", "plain"}})
	for _, want := range []string{
		`Environment="BGMUX_STATE_DIR=/s/50%% \"x\"\\y"` + "\n",
		"Environment=BGMUX_SOCKET=plain\n",
		`ExecStart="/opt/my tools/bgmux$$1" restore` + "\n",
		"Type=oneshot\n", "WantedBy=default.target\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
}
