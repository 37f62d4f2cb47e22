//go:build clients

package clients

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"time"
)

// claudeModel is the model name Claude Code is told to use; the scripted
// server answers whatever it is asked. (Claude Code calls it retired,
// harmlessly; with "sonnet", now claude-sonnet-5-5, interactive Claude
// Code would start in auto mode but for --permission-mode, see claudeArgs.)
const claudeModel = "claude-sonnet-4-5"

// claudeTool is the name Claude Code gives the bgmux MCP tool tool.
func claudeTool(tool string) string { return "mcp__bgmux__" + tool }

// runClaude runs `claude -p prompt` headless in the world, against model
// (ANTHROPIC_BASE_URL) and `bgmux mcp` behind the MCP tap (--mcp-config;
// --strict-mcp-config so nothing else is loaded), allowed to use Bash, ToolSearch and every
// bgmux tool without asking. Its stream-json output is in the result's
// Stdout (and in the log dir).
func (w *world) runClaude(model *ModelServer, prompt string, timeout time.Duration) clientRun {
	w.t.Helper()
	bin := needClient(w.t, "claude")
	args := append([]string{"-p", prompt}, claudeArgs(w, "stream-json")...)
	env := w.clientEnviron(claudeEnv(model, "sk-ant-test-dummy")...)
	return w.runClient("claude", timeout, bin, args, env)
}

// claudeArgs are Claude Code's flags for the world: the model, bgmux
// behind the MCP tap as the only MCP server (--strict-mcp-config), and
// Bash, ToolSearch and every bgmux tool allowed without asking; with
// output (-p only) the output format.
func claudeArgs(w *world, output string) []string {
	argv, mcpEnv := w.mcpCommand()
	cfg, _ := json.MarshalIndent(map[string]any{"mcpServers": map[string]any{
		"bgmux": map[string]any{"type": "stdio", "command": argv[0], "args": argv[1:], "env": mcpEnv},
	}}, "", "  ")
	cfgPath := filepath.Join(w.Root, "claude-mcp.json")
	w.writeFile(cfgPath, cfg)
	allowed := []string{"Bash", "ToolSearch"}
	for _, tool := range bgmuxTools {
		allowed = append(allowed, claudeTool(tool))
	}
	args := []string{
		"--model", claudeModel,
		"--mcp-config", cfgPath, "--strict-mcp-config",
		"--allowedTools", strings.Join(allowed, ","),
		// Pinned: with a newer model Claude Code defaults to "auto mode",
		// whose classifier asks the model about each tool call.
		"--permission-mode", "default",
	}
	if output != "" {
		args = append(args, "--output-format", output, "--verbose")
	}
	return args
}

// claudeEnv are Claude Code's variables: the model server as the API,
// key as its API key, and no telemetry, updates or other traffic.
func claudeEnv(model *ModelServer, key string) []string {
	return []string{
		"ANTHROPIC_BASE_URL=" + model.URL,
		"ANTHROPIC_API_KEY=" + key,
		"DISABLE_TELEMETRY=1",
		"DISABLE_AUTOUPDATER=1",
		"DISABLE_ERROR_REPORTING=1",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
	}
}
