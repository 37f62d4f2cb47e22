// Package clients drives the real Claude Code and the real OpenCode against
// `bgmux mcp`, with a scripted model server on 127.0.0.1 in place of an LLM.
//
// Its tests are behind the build tag "clients" (they need both clients
// installed; .ci/clients installs them and runs
// `go test -race -tags clients ./tests/clients/`), so a
// plain `go test ./...` compiles only this file. A missing client fails
// the test with how to install it; BGMUX_TEST_CLAUDE and
// BGMUX_TEST_OPENCODE name the binaries, else claude and opencode are
// looked up on PATH.
//
// The pieces, for new scenarios:
//   - model_test.go: ModelServer, a scripted LLM speaking the Anthropic
//     Messages API (anthropic_test.go) and the OpenAI chat completions API
//     (openai_test.go), streaming or not. A Script gets each request decoded
//     into a common Request (messages, tool calls, tool results as the
//     client sent them) and returns the next Turn (text and/or tool calls).
//     Every request is recorded (Requests) and logged to a file.
//   - script_test.go: Plan, a Script that makes one tool call per step and
//     gives up on an error result; client, what a scenario needs to know of
//     each client (tool names, its shell tool, Claude Code's ToolSearch
//     prelude, how a result is shown to the model).
//   - world_test.go: world, one test's private tmux socket (in a private
//     TMUX_TMPDIR), state dir, HOME, XDG and TMPDIR dirs and log dir, all
//     removed at cleanup (logs kept when the test failed); startClient and
//     runClient run a client in its own process group under a timeout.
//   - tap_test.go: the clients start this test binary as their MCP server;
//     it runs the real `bgmux mcp` and logs every JSON-RPC line both ways
//     (mcpLog reads it back).
//   - claude_test.go, opencode_test.go: how each client is configured and
//     run headless (claude -p, opencode run); opencode_serve_test.go runs
//     `opencode serve` and prompts it over its HTTP API; claude_term_test.go
//     runs interactive Claude Code in a terminal (a tmux server of its own)
//     and types into it.
//   - seed_test.go: the seed scenario (an HTTP echo server started, read,
//     talked to with curl and stopped through each client); wait_test.go:
//     wait_task's progress notifications reach each client;
//     taskext_test.go: interactive Claude Code is woken by a background
//     wait_task's result (the MCP Tasks extension).
package clients
