package tasks

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"
)

// DefaultReadyTimeout is how long bgmux up waits for a dependency's ready
// line when its ready_timeout is not set.
const DefaultReadyTimeout = 60 * time.Second

// TaskConfig is one declared task under the config file's tasks: key.
type TaskConfig struct {
	// Command is a shell string (one word) or an argv (a list).
	Command Command `yaml:"command"`
	// Cwd is the working directory, relative to the config file's
	// directory; empty means that directory.
	Cwd string `yaml:"cwd"`
	// Env holds variables added to the task's environment.
	Env map[string]string `yaml:"env"`
	// EnvFile is an env file (KEY=VALUE lines, see envfile.go) read when
	// bgmux up starts the task, relative to the config file's directory;
	// Env wins over it.
	EnvFile string `yaml:"env_file"`
	// Tags label the task.
	Tags []string `yaml:"tags"`
	// Restart is the restart policy: never (default), on-failure or always.
	Restart string `yaml:"restart"`
	// MaxRestarts bounds automatic restarts; nil means no bound.
	MaxRestarts *Count `yaml:"max_restarts"`
	// Ready is a regular expression matching the output line that means
	// the task is up; dependents start only after it appears.
	Ready string `yaml:"ready"`
	// ReadyTimeout bounds the wait for Ready (default 60s).
	ReadyTimeout *Duration `yaml:"ready_timeout"`
	// DependsOn names the declared tasks to start (and be ready) first.
	DependsOn []string `yaml:"depends_on"`
	// Autostart makes restore bring the task back after a reboot or a
	// tmux server loss whatever its restart policy.
	Autostart bool `yaml:"autostart"`
	// Group is the task's group (tmux session); empty means the default
	// group of the config file's directory.
	Group string `yaml:"group"`

	ready *regexp.Regexp
}

// ReadyRegexp is the compiled Ready expression, nil when none is set.
func (t *TaskConfig) ReadyRegexp() *regexp.Regexp { return t.ready }

// ReadyWait is the ready timeout with its default applied.
func (t *TaskConfig) ReadyWait() time.Duration {
	if t.ReadyTimeout == nil {
		return DefaultReadyTimeout
	}
	return time.Duration(*t.ReadyTimeout)
}

// Command is a declared task's command: a YAML string (run with sh -c) or
// a list of strings (exec'd directly).
type Command []string

// UnmarshalYAML accepts a string or a list of strings.
func (c *Command) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			*c = nil
			return nil
		}
		*c = Command{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(Command, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: each word of a command list must be a string", item.Line)
			}
			out = append(out, item.Value)
		}
		*c = out
		return nil
	}
	return fmt.Errorf("line %d: command must be a string (run with sh -c) or a list of strings (an argv)", n.Line)
}

// yamlKeys maps the keys of a YAML document to their lines.
type yamlKeys struct {
	byPath map[string]int // "tasks.web.ready" -> line of the key
	byLine map[int]string // line -> the most specific key path on it
	// values lists, per line, the keys whose value node starts there
	// with that node's tag, outermost first.
	values map[int][]keyValue
}

type keyValue struct{ path, tag string }

// valueKey is the innermost key on line whose value has the YAML tag tag
// (a type error names the tag it got), else the innermost key on it.
func (k *yamlKeys) valueKey(line int, tag string) string {
	vs := k.values[line]
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].tag == tag {
			return vs[i].path
		}
	}
	return k.byLine[line]
}

// keyLines indexes the keys of the document root.
func keyLines(root *yaml.Node) *yamlKeys {
	k := &yamlKeys{byPath: map[string]int{}, byLine: map[int]string{}, values: map[int][]keyValue{}}
	var walk func(n *yaml.Node, path string)
	note := func(line int, path string) {
		if len(path) > len(k.byLine[line]) {
			k.byLine[line] = path
		}
	}
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key, val := n.Content[i], n.Content[i+1]
				p := key.Value
				if path != "" {
					p = path + "." + key.Value
				}
				if _, dup := k.byPath[p]; !dup {
					k.byPath[p] = key.Line
				}
				note(key.Line, p)
				k.values[val.Line] = append(k.values[val.Line], keyValue{p, val.ShortTag()})
				walk(val, p)
			}
		case yaml.SequenceNode:
			note(n.Line, path)
			for _, c := range n.Content {
				walk(c, path)
			}
		default:
			note(n.Line, path)
		}
	}
	walk(root, "")
	return k
}

// line is the line of the key at path, 0 when unknown.
func (k *yamlKeys) line(path string) int {
	if k == nil {
		return 0
	}
	return k.byPath[path]
}

var (
	yamlLineRe   = lazyRegexp(`(?s)^line (\d+): (.*)$`)
	unknownKeyRe = lazyRegexp(`(?s)^field (.*) not found in type \S+$`)
	wrongTypeRe  = lazyRegexp("(?s)^cannot unmarshal (\\S+)(?: `(.*)`)? into (\\S+)$")
)

// configError rewrites a yaml.v3 error as "FILE:LINE: message" lines that
// name the key.
func configError(path string, err error, keys *yamlKeys) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msgs := strings.Split(msg, "\n")
	// A TypeError has one message per problem; the value quoted in one
	// may span lines, so it is not split on newlines.
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	var out []string
	for _, l := range msgs {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		m := yamlLineRe().FindStringSubmatch(l)
		if m == nil {
			out = append(out, path+": "+l)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		text := m[2]
		key := ""
		if keys != nil {
			key = keys.byLine[line]
		}
		if u := unknownKeyRe().FindStringSubmatch(text); u != nil {
			text = fmt.Sprintf("unknown key %q", u[1])
			if parent, ok := strings.CutSuffix(key, "."+u[1]); ok {
				text += " in " + parent
			}
			text += "; see config.example.yaml for the keys"
		} else if w := wrongTypeRe().FindStringSubmatch(text); w != nil {
			got := map[string]string{"!!seq": "a list", "!!map": "a map", "!!str": "a string", "!!int": "a number", "!!float": "a number", "!!bool": "a boolean", "!!null": "nothing"}[w[1]]
			if got == "" {
				got = w[1]
			}
			if v := w[2]; v != "" {
				if strings.ContainsFunc(v, unicode.IsControl) {
					v = strconv.Quote(v)
				}
				got += " (" + v + ")"
			}
			text = fmt.Sprintf("wrong type: got %s, want %s", got, goTypeWord(w[3]))
			if keys != nil {
				key = keys.valueKey(line, w[1])
			}
			if key != "" {
				text = "key " + key + ": " + text
			}
		} else if key != "" {
			text = "key " + key + ": " + text
		}
		out = append(out, fmt.Sprintf("%s:%d: %s", path, line, text))
	}
	if len(out) == 0 {
		out = append(out, path+": "+msg)
	}
	return &Error{Kind: KindInvalid, Msg: "config file " + strings.Join(out, "\n")}
}

// goTypeWord says what a Go type named in a yaml.v3 error expects.
func goTypeWord(t string) string {
	switch {
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "*tasks.TaskConfig"), strings.HasPrefix(t, "tasks.TaskConfig"), t == "tasks.Config":
		return "a map of key: value"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasSuffix(t, "Count"), t == "int":
		return "a whole number"
	}
	return t
}

// validateTasks checks the declared tasks as a whole: names, commands,
// regexes, policies and the depends_on graph. Every problem found is an
// invalid_input error naming the file and line.
func (c *Config) validateTasks(keys *yamlKeys) error {
	names := c.TaskNames()
	at := func(path string) string {
		if l := keys.line(path); l > 0 {
			return fmt.Sprintf("%s:%d", c.Path, l)
		}
		return c.Path
	}
	for _, name := range names {
		t := c.Tasks[name]
		p := "tasks." + name
		if err := ValidateName(name); err != nil {
			return Errorf(KindInvalid, "config file %s: bad task name %q: %v", at(p), name, err)
		}
		if t == nil {
			t = &TaskConfig{}
			c.Tasks[name] = t
		}
		if len(t.Command) == 0 || len(t.Command) == 1 && strings.TrimSpace(t.Command[0]) == "" {
			return Errorf(KindInvalid, "config file %s: task %s has no command; add command: \"...\" (a shell string) or command: [prog, arg] (an argv)", at(p), name)
		}
		if t.Command[0] == "" {
			return Errorf(KindInvalid, "config file %s: task %s: the first word of command (the program) is empty", at(p+".command"), name)
		}
		if t.Ready != "" {
			re, err := regexp.Compile(t.Ready)
			if err != nil {
				return Errorf(KindInvalid, "config file %s: task %s: ready is not a valid regular expression: %v", at(p+".ready"), name, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			}
			t.ready = re
		}
		switch t.Restart {
		case "", "never", "on-failure", "always":
		default:
			return Errorf(KindInvalid, "config file %s: task %s: unknown restart policy %q; use never, on-failure or always", at(p+".restart"), name, t.Restart)
		}
		if t.MaxRestarts != nil && *t.MaxRestarts < 0 {
			return Errorf(KindInvalid, "config file %s: task %s: max_restarts must be 0 or more", at(p+".max_restarts"), name)
		}
		for k := range t.Env {
			if err := ValidateEnvKey(k); err != nil {
				return Errorf(KindInvalid, "config file %s: task %s: env: %v", at(p+".env."+k), name, err)
			}
		}
		for _, tag := range t.Tags {
			if err := checkWord("tag", tag); err != nil {
				return Errorf(KindInvalid, "config file %s: task %s: %v", at(p+".tags"), name, err)
			}
		}
		if t.Group != "" {
			if err := ValidateGroup(t.Group); err != nil {
				return Errorf(KindInvalid, "config file %s: task %s: %v", at(p+".group"), name, err)
			}
		}
		for _, d := range t.DependsOn {
			if _, ok := c.Tasks[d]; !ok {
				return Errorf(KindInvalid, "config file %s: task %s depends on %q, which is not declared; declared tasks: %s", at(p+".depends_on"), name, d, strings.Join(names, ", "))
			}
		}
	}
	// Cycles: a depth-first search that reports the first back edge.
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(n string) error
	visit = func(n string) error {
		color[n] = grey
		stack = append(stack, n)
		for _, d := range c.Tasks[n].DependsOn {
			switch color[d] {
			case grey:
				i := len(stack) - 1
				for stack[i] != d {
					i--
				}
				cycle := append(append([]string(nil), stack[i:]...), d)
				return Errorf(KindInvalid, "config file %s: depends_on cycle: %s; remove one of these dependencies", at("tasks."+d+".depends_on"), strings.Join(cycle, " -> "))
			case white:
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return nil
	}
	for _, n := range names {
		if color[n] == white {
			if err := visit(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// TaskNames lists the declared tasks' names, sorted.
func (c *Config) TaskNames() []string {
	names := make([]string, 0, len(c.Tasks))
	for n := range c.Tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Dir is the directory of the config file, against which declared
// tasks' cwd is resolved; "" for the built-in defaults.
func (c *Config) Dir() string {
	if c.Path == "" {
		return ""
	}
	abs, err := filepath.Abs(c.Path)
	if err != nil {
		return filepath.Dir(c.Path)
	}
	return filepath.Dir(abs)
}

// declaredOrder returns the selected declared tasks (all when sel is
// empty) plus their dependencies, dependencies first; ties are by name.
func (c *Config) declaredOrder(sel []string) ([]string, error) {
	if len(sel) == 0 {
		sel = c.TaskNames()
	}
	var order []string
	seen := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		deps := append([]string(nil), c.Tasks[n].DependsOn...)
		sort.Strings(deps)
		for _, d := range deps {
			visit(d)
		}
		order = append(order, n)
	}
	for _, n := range sel {
		if _, ok := c.Tasks[n]; !ok {
			return nil, Errorf(KindInvalid, "no declared task named %s in %s; declared: %s", n, c.Path, strings.Join(c.TaskNames(), ", "))
		}
		visit(n)
	}
	return order, nil
}
