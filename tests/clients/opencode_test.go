//go:build clients

package clients

import (
	"encoding/json"
	"path/filepath"
	"time"
)

// The provider and model OpenCode is configured with: an
// OpenAI-compatible provider pointing at the scripted model server.
const (
	opencodeProvider = "scripted"
	opencodeModel    = "scripted-model"
)

// opencodeTool is the name OpenCode gives the bgmux MCP tool tool.
func opencodeTool(tool string) string { return "bgmux_" + tool }

// writeOpencodeConfig writes the opencode.json of the world (pointed at
// by OPENCODE_CONFIG): the scripted provider as model and small model,
// `bgmux mcp` (behind the MCP tap) as a local MCP server with the world's socket and state
// dir, and every permission granted (no one is there to answer a
// question). It returns the file's path.
func (w *world) writeOpencodeConfig(model *ModelServer) string {
	w.t.Helper()
	argv, mcpEnv := w.mcpCommand()
	cfg, _ := json.MarshalIndent(map[string]any{
		"$schema": "https://opencode.ai/config.json",
		"provider": map[string]any{opencodeProvider: map[string]any{
			"npm":     "@ai-sdk/openai-compatible",
			"name":    "Scripted model server",
			"options": map[string]any{"baseURL": model.URL + "/v1", "apiKey": "test-dummy"},
			"models": map[string]any{opencodeModel: map[string]any{
				"name": "Scripted", "tool_call": true,
				"limit": map[string]any{"context": 200000, "output": 8192},
			}},
		}},
		"model":       opencodeProvider + "/" + opencodeModel,
		"small_model": opencodeProvider + "/" + opencodeModel,
		"mcp": map[string]any{"bgmux": map[string]any{
			"type": "local", "command": argv, "environment": mcpEnv, "enabled": true,
		}},
		"permission": map[string]any{"*": "allow"},
		"autoupdate": false,
		"share":      "disabled",
	}, "", "  ")
	p := filepath.Join(w.Root, "opencode.json")
	w.writeFile(p, cfg)
	return p
}

// runOpencode runs `opencode run prompt` headless in the world, against
// model and `bgmux mcp`. Its JSON event output is in the result's Stdout
// (and in the log dir), its logs in Stderr.
func (w *world) runOpencode(model *ModelServer, prompt string, timeout time.Duration) clientRun {
	w.t.Helper()
	bin := needClient(w.t, "opencode")
	cfg := w.writeOpencodeConfig(model)
	args := []string{"run", "--model", opencodeProvider + "/" + opencodeModel, "--format", "json", "--print-logs", prompt}
	return w.runClient("opencode", timeout, bin, args, w.opencodeEnviron(cfg))
}

// opencodeEnviron is the environment OpenCode runs with: the world's,
// its config file, and no updates, downloads or default plugins.
func (w *world) opencodeEnviron(cfg string) []string {
	return w.clientEnviron(
		"OPENCODE_CONFIG="+cfg,
		"OPENCODE_DISABLE_AUTOUPDATE=1",
		"OPENCODE_DISABLE_MODELS_FETCH=1",
		"OPENCODE_DISABLE_DEFAULT_PLUGINS=1",
		"OPENCODE_DISABLE_LSP_DOWNLOAD=1",
	)
}
