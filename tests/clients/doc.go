// Package clients drives the real Claude Code and the real OpenCode against
// `bgmux mcp`, with a scripted model server on 127.0.0.1 in place of an LLM.
//
// Its tests are behind the build tag "clients" (they need both clients
// installed; .ci/clients installs them and runs
// `go test -tags clients,urfave_cli_no_docs ./tests/clients/`), so a plain
// `go test ./...` compiles only this file.
package clients
