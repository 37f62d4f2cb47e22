// Package testbin is what the tests that run bgmux's binaries share
// (tests/, mcp/, tests/clients/): it builds bgmux and bgmux-mcp once per
// test binary, with their build tags defined here once (Tags), and holds
// the process helpers of their harnesses (Poll, Supervisors, Reap).
//
// It is used only from tests. It imports no bgmux package: the binaries
// are built by `go build` from their import paths, so it works from any
// directory of the module.
package testbin
