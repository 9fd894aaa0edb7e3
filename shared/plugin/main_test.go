package plugin_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// testPlugin is the executable built from testdata/testplugin and its SHA-256.
var testPlugin struct {
	path, sha256 string
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		path, sum, err := build(dir, "./testdata/testplugin", "testplugin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		testPlugin.path, testPlugin.sha256 = path, sum
		return m.Run()
	}()
	os.Exit(code)
}

// build compiles a plugin with go build and returns its path and SHA-256.
func build(dir, pkg, name string) (string, string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return hashFile(out)
}

func hashFile(path string) (string, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	s := sha256.Sum256(b)
	return path, hex.EncodeToString(s[:]), nil
}
