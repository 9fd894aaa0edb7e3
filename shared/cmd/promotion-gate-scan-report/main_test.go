package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// built is this plugin, compiled for the tests that run it as a real process.
var built struct {
	path, sha256 string
}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "scan-report-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		built.path = filepath.Join(dir, "promotion-gate-scan-report")
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			return 1
		}
		b, err := os.ReadFile(built.path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		sum := sha256.Sum256(b)
		built.sha256 = hex.EncodeToString(sum[:])
		return m.Run()
	}())
}
