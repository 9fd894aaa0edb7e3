package controller_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
)

// runIAC plays image-automation-controller for one automation until ctx ends: on
// every new reconcile request it commits files to the push branch (re-creating it
// from main when the gate deleted it) and records the push.
func (h *harness) runIAC(ctx context.Context, f *fleet, a *imagev1.ImageUpdateAutomation, files func() map[string]string) {
	go func() {
		for ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
			cur := &imagev1.ImageUpdateAutomation{}
			if err := k8s.Get(ctx, client.ObjectKeyFromObject(a), cur); err != nil {
				continue
			}
			req, ok := meta.ReconcileAnnotationValue(cur.Annotations)
			if !ok || req == cur.Status.LastHandledReconcileAt {
				continue
			}
			commit, err := f.bot.Commit(ctx, "main", a.Spec.GitSpec.Push.Branch, files(), "Update image")
			if err != nil {
				continue // e.g. racing another writer: try again on the next tick
			}
			before := cur.DeepCopy()
			cur.Status.LastPushCommit = commit
			cur.Status.LastHandledReconcileAt = req
			_ = k8s.Status().Patch(ctx, cur, client.MergeFrom(before))
		}
	}()
}

// Five gates promote different paths of one repository at once: all are promoted,
// the target's history stays linear and no commit is lost.
func TestFiveGatesOnOneRepository(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewHTTP(t, "", "")
	apps := []string{"app-a", "app-b", "app-c", "app-d", "app-e"}
	f := h.newFleet(srv.URL("fleet.git"), nil, apps...)
	h.setPolicy(basePolicy)
	start := h.head(f, "main")

	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	autos := map[string]*imagev1.ImageUpdateAutomation{}
	files := map[string]map[string]string{}
	for i, app := range apps {
		a := h.automation(f, app+"-prod", app)
		h.gate(app+"-prod", a.Name)
		autos[app] = a
		files[app] = map[string]string{
			overlayPath(app): prodOverlay(app, "ghcr.io/example/"+app, fmt.Sprintf("2.0.%d", i), digestB),
		}
		h.runIAC(ctx, f, a, func() map[string]string { return files[app] })
	}
	for _, app := range apps {
		h.waitReady(app+"-prod", metav1.ConditionTrue, gatev1.UpToDateReason)
	}

	// Every automation pushes its proposal, all based on the same main, at once.
	var wg sync.WaitGroup
	for _, app := range apps {
		wg.Go(func() {
			commit, err := f.bot.Commit(h.ctx, "main", autos[app].Spec.GitSpec.Push.Branch, files[app], "Update image")
			if err != nil {
				t.Errorf("push %s: %v", app, err)
				return
			}
			h.setLastPush(autos[app], commit)
		})
	}
	wg.Wait()

	promoted := map[string]string{}
	for _, app := range apps {
		g := h.waitReady(app+"-prod", metav1.ConditionTrue, gatev1.PromotedReason)
		promoted[app] = g.Status.LastPromotion.Commit
	}

	// Linear history: from main back to the start, every commit has one parent, and
	// every promoted commit is on it.
	auth, err := git.NewAuth(f.url, nil)
	h.g.Expect(err).NotTo(HaveOccurred())
	s, err := git.NewCache(t.TempDir()).Open(h.ctx, f.url, auth)
	h.g.Expect(err).NotTo(HaveOccurred())
	defer s.Close()
	_, err = s.Fetch(h.ctx)
	h.g.Expect(err).NotTo(HaveOccurred())
	head, err := s.Head("main")
	h.g.Expect(err).NotTo(HaveOccurred())
	history, err := s.CommitsAhead(start, head, 100)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(history).To(HaveLen(len(apps)), "one promoted commit per gate, nothing else")
	for _, app := range apps {
		h.g.Expect(s.IsAncestor(promoted[app], head)).To(BeTrue(), "%s's promotion is on main", app)
		data, err := s.ReadFile(head, overlayPath(app), 0)
		h.g.Expect(err).NotTo(HaveOccurred())
		h.g.Expect(string(data)).To(Equal(files[app][overlayPath(app)]), "%s's change is on main", app)
	}
	for _, c := range history {
		h.g.Expect(c.Parents).To(Equal(1), "no merge commit: %s", c.Hash)
		h.g.Expect(c.AuthorEmail).To(Equal(botEmail))
	}
}
