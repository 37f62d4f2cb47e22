package tasks

import (
	"strings"
	"testing"
)

func TestServiceUnitQuoting(t *testing.T) {
	unit, err := ServiceUnit("/opt/my tools/bgmux$1", []EnvVar{{"BGMUX_STATE_DIR", `/s/50% "x"\y`}, {"BGMUX_SOCKET", "plain"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`Environment="BGMUX_STATE_DIR=/s/50%% \"x\"\\y"` + "\n",
		"Environment=BGMUX_SOCKET=plain\n",
		`ExecStart="/opt/my tools/bgmux$1" restore` + "\n",
		"Type=oneshot\n", "WantedBy=default.target\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
}

func TestServiceUnitRefusesUnreadablePath(t *testing.T) {
	for _, exe := range []string{`/opt/it's/bgmux`, `/opt/"q"/bgmux`, `/opt/back\slash/bgmux`, "/opt/new\nline/bgmux"} {
		if _, err := ServiceUnit(exe, nil); KindOf(err) != KindInvalid {
			t.Errorf("ServiceUnit(%q): %v, want an invalid_input error", exe, err)
		}
	}
}
