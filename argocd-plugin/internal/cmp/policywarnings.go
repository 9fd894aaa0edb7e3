package cmp

import (
	"fmt"
	"io"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// logPolicyWarnings writes the warnings of the policy just loaded, one a line, the same
// ones `promotion-gate policy validate` prints. Each render is its own process, so this
// is once per load; Generate shows them only after a successful render, where the
// sidecar's stderr is a log (on a refusal, stderr is the refusal and nothing else).
func logPolicyWarnings(w io.Writer, dir string, set *policy.Set, now time.Time) {
	if w == nil || set == nil {
		return
	}
	if now.IsZero() {
		now = time.Now()
	}
	for _, warning := range set.Warnings(now) {
		fmt.Fprintf(w, "promotion-gate: policy %s: %s\n", dir, warning)
	}
}
