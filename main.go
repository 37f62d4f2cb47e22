// Command bgmux runs background tasks for AI coding agents inside tmux.
package main

import (
	"os"

	"github.com/bgmux/bgmux/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Env: os.Environ()}))
}
