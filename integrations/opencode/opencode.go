// Package opencode is bgmux's OpenCode integration: the plugin that tells a
// session when a bgmux task it started ends (bgmux.js, embedded here), and
// the files `bgmux setup opencode` writes: the plugin into OpenCode's
// plugin directory, and the `mcp.bgmux` entry into opencode.json.
package opencode

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bgmux/bgmux/integrations"
	"github.com/bgmux/bgmux/integrations/jsonedit"
	"github.com/bgmux/bgmux/tasks"
)

//go:embed bgmux.js
var pluginSource string

// binLine is the line of bgmux.js that names the bgmux binary; setup
// writes the binary's path in its place.
const binLine = `const BGMUX = "bgmux" // bgmux setup: the bgmux binary`

// Plugin is the plugin file for a bgmux found at bin (a path, or a name
// looked up on PATH).
func Plugin(bin string) []byte {
	q, _ := json.Marshal(bin)
	return []byte(strings.Replace(pluginSource, binLine, "const BGMUX = "+string(q)+" // bgmux setup: the bgmux binary", 1))
}

// PluginName is the plugin's file name in OpenCode's plugin directory.
const PluginName = "bgmux.js"

// Options says where setup writes and what the files run.
type Options struct {
	// Global writes into the user's OpenCode config dir
	// ($XDG_CONFIG_HOME/opencode) instead of the project's.
	Global bool
	// Dir is the directory setup runs in; the project is its git top-level.
	Dir string
	// Getenv reads HOME and XDG_CONFIG_HOME.
	Getenv func(string) string
	// Bin is the bgmux command the MCP entry and the plugin run.
	Bin string
}

// Plan computes the files setup writes: the plugin and the OpenCode config
// with `mcp.bgmux` merged in. A config that cannot be parsed is an
// invalid_input error naming the file and the place, and nothing is written.
func Plan(o Options) ([]*integrations.File, error) {
	var cfgDir, pluginDir string
	if o.Global {
		cfgDir = filepath.Join(integrations.ConfigHome(o.Getenv), "opencode")
		pluginDir = filepath.Join(cfgDir, "plugin")
	} else {
		cfgDir = integrations.ProjectRoot(o.Dir)
		pluginDir = filepath.Join(cfgDir, ".opencode", "plugin")
	}
	// opencode.jsonc when there is one (OpenCode reads both), else opencode.json.
	cfgPath := filepath.Join(cfgDir, "opencode.json")
	if _, err := os.Stat(filepath.Join(cfgDir, "opencode.jsonc")); err == nil {
		cfgPath = filepath.Join(cfgDir, "opencode.jsonc")
	}
	old, err := integrations.Read(cfgPath)
	if err != nil {
		return nil, tasks.Errorf(tasks.KindFailed, "cannot read %s: %v", cfgPath, err)
	}
	src := old
	if src == nil {
		src = []byte("{\n  \"$schema\": \"https://opencode.ai/config.json\"\n}\n")
	}
	doc, err := jsonedit.Parse(src)
	if err != nil {
		return nil, tasks.Errorf(tasks.KindInvalid, "%s is not valid JSON (%v); fix it (or move it away), then run bgmux setup opencode again: nothing was changed", cfgPath, err)
	}
	entry := []string{"mcp", "bgmux"}
	var what []string
	for _, kv := range []struct {
		key string
		val any
	}{{"type", "local"}, {"command", []string{o.Bin, "mcp"}}, {"enabled", true}} {
		var have any
		exists, _ := doc.Get(entry, &have)
		var changed bool
		if !exists {
			changed, err = doc.Set(entry, jsonedit.MarshalOrdered("type", "local", "command", []string{o.Bin, "mcp"}, "enabled", true))
		} else {
			changed, err = doc.Set(append(entry[:2:2], kv.key), kv.val)
		}
		if err != nil {
			return nil, tasks.Errorf(tasks.KindInvalid, "%s: cannot set mcp.bgmux.%s: %v; fix the file, then run bgmux setup opencode again: nothing was changed", cfgPath, kv.key, err)
		}
		if changed {
			if !exists {
				what = append(what, "mcp.bgmux")
				break
			}
			what = append(what, "mcp.bgmux."+kv.key)
		}
	}
	cfg := &integrations.File{Path: cfgPath, Old: old, New: doc.Bytes(), Mode: 0o644,
		What: "the bgmux MCP server (" + strings.Join(what, ", ") + ")"}
	if len(what) == 0 {
		cfg.New = old
	}
	pluginPath := filepath.Join(pluginDir, PluginName)
	oldPlugin, err := integrations.Read(pluginPath)
	if err != nil {
		return nil, tasks.Errorf(tasks.KindFailed, "cannot read %s: %v", pluginPath, err)
	}
	plugin := &integrations.File{Path: pluginPath, Old: oldPlugin, New: Plugin(o.Bin), Mode: 0o644,
		What: fmt.Sprintf("the plugin that tells a session when its bgmux tasks end (runs %s)", o.Bin)}
	return []*integrations.File{cfg, plugin}, nil
}
