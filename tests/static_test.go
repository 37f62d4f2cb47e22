package tests

import (
	"debug/elf"
	"runtime"
	"testing"
)

// TestBinaryLinksNoCLibrary: the bgmux binary (every CLI call and every
// supervisor) is linked statically. Package net would link the C library
// for its DNS resolver; loading it cost every process about a millisecond
// and a megabyte of shared pages, so the control socket is made with
// plain system calls (package control).
func TestBinaryLinksNoCLibrary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the check reads an ELF binary; %s builds another format", runtime.GOOS)
	}
	f, err := elf.Open(bgmuxBin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Fatalf("bgmux links %v dynamically; something imported package net or cgo (go list -deps . | grep -E '^net$|runtime/cgo')", libs)
	}
}
