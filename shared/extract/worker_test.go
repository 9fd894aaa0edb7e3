package extract_test

import (
	"os"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/render"
)

// TestMain lets this test binary serve as the render worker of the sandboxed renders
// the tests start.
func TestMain(m *testing.M) {
	render.ServeWorker()
	os.Exit(m.Run())
}
