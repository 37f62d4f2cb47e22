// Package claude is what `bgmux setup claude` writes for Claude Code: the
// bgmux MCP server in the project's .mcp.json (or, with --global, the
// `claude mcp add --scope user` line), and optionally a SessionStart hook
// in .claude/settings.json that tells a resumed or compacted session what
// happened to its tasks while it was away (`bgmux events --new`).
package claude

import (
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/bgmux/bgmux/integrations"
	"github.com/bgmux/bgmux/integrations/jsonedit"
	"github.com/bgmux/bgmux/tasks"
)

// Reader is the events reader the hook uses.
const Reader = "claude"

// HookMatcher is the SessionStart sources the hook runs for.
const HookMatcher = "resume|compact"

// Options says where setup writes and what the files run.
type Options struct {
	// Global: the user's settings (~/.claude) and `claude mcp add --scope user`.
	Global bool
	// Dir is the directory setup runs in; the project is its git top-level.
	Dir string
	// Getenv reads HOME.
	Getenv func(string) string
	// Bin is the bgmux command the MCP server and the hook run.
	Bin string
	// Hook adds the SessionStart hook.
	Hook bool
}

// MCPAddArgs is the `claude mcp add` command line (without "claude") that
// registers bgmux for scope ("user" or "project").
func MCPAddArgs(scope, bin string) []string {
	return []string{"mcp", "add", "--scope", scope, "bgmux", "--", bin, "mcp"}
}

// HookCommand is the shell command the SessionStart hook runs.
func HookCommand(bin string) string {
	return shellQuote(bin) + " events --new --reader " + Reader + " --since 24h"
}

// Plan computes the files setup writes: without Global the project's
// .mcp.json with mcpServers.bgmux merged in; with Hook the settings file
// with the SessionStart hook appended (unless a bgmux events hook is there).
func Plan(o Options) ([]*integrations.File, error) {
	var files []*integrations.File
	root := integrations.ProjectRoot(o.Dir)
	if !o.Global {
		p := filepath.Join(root, ".mcp.json")
		f, doc, err := open(p)
		if err != nil {
			return nil, err
		}
		changed, err := doc.Set([]string{"mcpServers", "bgmux"},
			jsonedit.MarshalOrdered("type", "stdio", "command", o.Bin, "args", []string{"mcp"}))
		if err != nil {
			return nil, invalid(p, err)
		}
		if changed {
			f.New, f.What = doc.Bytes(), "the bgmux MCP server (mcpServers.bgmux, as claude mcp add --scope project would)"
		}
		files = append(files, f)
	}
	if o.Hook {
		dir := filepath.Join(root, ".claude")
		if o.Global {
			dir = filepath.Join(integrations.Home(o.Getenv), ".claude")
		}
		p := filepath.Join(dir, "settings.json")
		f, doc, err := open(p)
		if err != nil {
			return nil, err
		}
		els, err := doc.Elements([]string{"hooks", "SessionStart"})
		if err != nil {
			return nil, invalid(p, err)
		}
		if !hasHook(els) {
			err := doc.Append([]string{"hooks", "SessionStart"}, jsonedit.MarshalOrdered(
				"matcher", HookMatcher,
				"hooks", []any{jsonedit.MarshalOrdered("type", "command", "command", HookCommand(o.Bin))}))
			if err != nil {
				return nil, invalid(p, err)
			}
			f.New, f.What = doc.Bytes(), "a SessionStart hook ("+HookMatcher+") that runs bgmux events --new"
		}
		files = append(files, f)
	}
	return files, nil
}

// hasHook reports whether one of the SessionStart entries already runs
// bgmux events --new with the hook's reader.
func hasHook(els []json.RawMessage) bool {
	for _, e := range els {
		var entry struct {
			Hooks []struct {
				Command string `json:"command"`
			} `json:"hooks"`
		}
		if json.Unmarshal(e, &entry) != nil {
			continue
		}
		for _, h := range entry.Hooks {
			if strings.Contains(h.Command, "events --new --reader "+Reader) {
				return true
			}
		}
	}
	return false
}

func open(p string) (*integrations.File, *jsonedit.Doc, error) {
	old, err := integrations.Read(p)
	if err != nil {
		return nil, nil, tasks.Errorf(tasks.KindFailed, "cannot read %s: %v", p, err)
	}
	src := old
	if src == nil {
		src = []byte("{}\n")
	}
	doc, err := jsonedit.Parse(src)
	if err != nil {
		return nil, nil, invalid(p, err)
	}
	return &integrations.File{Path: p, Old: old, New: old, Mode: 0o644}, doc, nil
}

func invalid(p string, err error) error {
	return tasks.Errorf(tasks.KindInvalid, "%s is not valid JSON or not the expected shape (%v); fix it (or move it away), then run bgmux setup claude again: nothing was changed", p, err)
}

// shellQuote quotes s for a POSIX shell unless it needs none.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
