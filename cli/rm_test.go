package cli

import (
	"reflect"
	"testing"
	"time"

	"github.com/bgmux/bgmux/tasks"
)

func TestNewRmAndPruneCommands(t *testing.T) {
	r, err := parseWith(t, rmCommand, "a", "b", "--force", "--json")
	if err != nil || !reflect.DeepEqual(*r, rmOptions{tasks: []string{"a", "b"}, force: true, json: true}) {
		t.Errorf("rm a b --force --json: %+v, %v", r, err)
	}
	_, err = parseWith(t, rmCommand, "--force")
	wantUsage(t, []string{"rm", "--force"}, err, "rm needs at least one TASK")

	for _, c := range []struct {
		args []string
		want tasks.PruneOptions
		json bool
	}{
		{[]string{}, tasks.PruneOptions{}, false},
		{[]string{"--older-than", "1h", "--group", "g", "--dry-run", "--json"}, tasks.PruneOptions{OlderThan: time.Hour, Group: "g", DryRun: true}, true},
		{[]string{"--all", "--older-than=90"}, tasks.PruneOptions{OlderThan: 90 * time.Second, All: true}, false},
	} {
		got, err := parseWith(t, pruneCommand, c.args...)
		if err != nil || got.PruneOptions != c.want || got.json != c.json {
			t.Errorf("prune %q: %+v, %v; want %+v json %v", c.args, got, err, c.want, c.json)
		}
	}
	_, err = parseWith(t, pruneCommand, "web")
	wantUsage(t, []string{"prune", "web"}, err, "prune takes no TASK")
	_, err = parseWith(t, pruneCommand, "--older-than", "x")
	wantUsage(t, []string{"prune", "--older-than", "x"}, err, `"x"`)
}
