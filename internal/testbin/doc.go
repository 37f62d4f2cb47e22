// Package testbin builds bgmux and bgmux-mcp for the tests that run them
// as programs (tests/, mcp/, tests/clients/), once per test binary, with
// the build tags the binaries are built with defined here once (Tags).
//
// It is used only from tests. It imports no bgmux package: the binaries
// are built by `go build` from their import paths, so it works from any
// directory of the module.
package testbin
