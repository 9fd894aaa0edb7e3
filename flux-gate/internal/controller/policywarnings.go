package controller

import (
	"context"
	"strings"
	"sync"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// policyWarnings logs the warnings of a loaded policy (the ones `promotion-gate policy
// validate` prints) once per policy and set of warnings, not on every reconcile: the
// policy is read for every gate and every evaluation. The zero value is ready to use.
type policyWarnings struct {
	mu   sync.Mutex
	last string
}

// log writes each warning of set as one log line, unless this process already logged
// the same warnings for the same policy revision last time.
func (p *policyWarnings) log(ctx context.Context, namespace string, set *policy.Set, now time.Time) {
	if set == nil {
		return
	}
	warnings := set.Warnings(now)
	key := set.Revision
	for _, w := range warnings {
		key += "\n" + w.Message
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if key == p.last {
		return
	}
	p.last = key
	log := ctrl.LoggerFrom(ctx)
	for _, w := range warnings {
		log.Info(w.String(), "policyNamespace", namespace, "policyRevision", set.Revision,
			"reason", string(w.Reason), "subject", w.Subject, "policySources", strings.Join(set.Sources, ","))
	}
}
