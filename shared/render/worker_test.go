package render

import (
	"os"
	"testing"
)

// TestMain lets this test binary serve as the render worker of the sandboxed renders
// the tests start.
func TestMain(m *testing.M) {
	ServeWorker()
	os.Exit(m.Run())
}
