package cli

import (
	"testing"

	"github.com/bgmux/bgmux/tasks"
)

func TestNewStatusAndListCommands(t *testing.T) {
	for _, c := range []struct {
		args []string
		want statusOptions
	}{
		{[]string{}, statusOptions{}},
		{[]string{"web", "--json"}, statusOptions{task: "web", json: true}},
	} {
		got, err := parseWith(t, statusCommand, c.args...)
		if err != nil || *got != c.want {
			t.Errorf("status %q: %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	_, err := parseWith(t, statusCommand, "a", "b")
	wantUsage(t, []string{"status", "a", "b"}, err, "status takes one TASK")

	for _, c := range []struct {
		args []string
		want listOptions
	}{
		{[]string{}, listOptions{}},
		{[]string{"--all", "--json"}, listOptions{json: true, ListOptions: tasks.ListOptions{All: true}}},
		{[]string{"--group", "g", "--tag=t", "--state", "running"}, listOptions{ListOptions: tasks.ListOptions{Group: "g", Tag: "t", State: "running"}}},
	} {
		got, err := parseWith(t, listCommand, c.args...)
		if err != nil || *got != c.want {
			t.Errorf("list %q: %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
	_, err = parseWith(t, listCommand, "web")
	wantUsage(t, []string{"list", "web"}, err, "list takes no arguments")
}
