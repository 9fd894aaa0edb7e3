package controller_test

import (
	"errors"
	"fmt"
	"time"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
)

const (
	botName    = "fluxcdbot"
	botEmail   = "fluxcdbot@users.noreply.example.com"
	humanName  = "Dana Dev"
	humanEmail = "dana@example.com"

	digestA = "sha256:8d3f8f5a2e0d6c7e9d6b4f0b3e83b6d9a3b2f0d6f7a6c5e4d3c2b1a0f9e8d7c6"
	digestB = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digestC = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// basePolicy is the platform team's policy from DESIGN.md, trimmed to what the
// tests exercise.
const basePolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: platform-baseline
spec:
  environments:
    - name: prod
      protected: true
      match:
        paths: ["apps/*/overlays/prod/**"]
  rules:
    - name: prod-immutable-images
      environments: [prod]
      enforcement: deny
      requireDigest: true
      denyTags: ["latest", "main"]
      allowedRegistries: ["ghcr.io/example/**"]
`

// prodOverlay is a kustomization whose images: entry carries Flux setter markers,
// as image-automation-controller writes them. An empty digest leaves the image
// mutable.
func prodOverlay(app, name, tag, digest string) string {
	s := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: %[1]s-prod
resources:
  - ../../base
images:
  - name: ghcr.io/example/%[1]s
    newName: %[2]s # {"$imagepolicy": "flux-system:%[1]s-prod:name"}
    newTag: %[3]s # {"$imagepolicy": "flux-system:%[1]s-prod:tag"}
`, app, name, tag)
	if digest != "" {
		s += fmt.Sprintf("    digest: %s # {\"$imagepolicy\": \"flux-system:%s-prod:digest\"}\n", digest, app)
	}
	return s
}

func overlayPath(app string) string { return "apps/" + app + "/overlays/prod/kustomization.yaml" }

// fleet is a platform-config repository on a Git server, with its GitRepository.
type fleet struct {
	url   string
	data  map[string][]byte
	repo  string // GitRepository name
	bot   gittest.Writer
	human gittest.Writer
}

// newFleet pushes the initial main branch with one prod overlay per app, all
// compliant, and creates the Secret and GitRepository that point at it.
func (h *harness) newFleet(url string, data map[string][]byte, apps ...string) *fleet {
	h.t.Helper()
	return h.newNamedFleet("fleet", url, data, apps...)
}

// newNamedFleet is newFleet with the GitRepository named name.
func (h *harness) newNamedFleet(name, url string, data map[string][]byte, apps ...string) *fleet {
	h.t.Helper()
	f := &fleet{url: url, data: data, repo: name,
		bot:   gittest.Writer{URL: url, Data: data, AuthorName: botName, AuthorEmail: botEmail},
		human: gittest.Writer{URL: url, Data: data, AuthorName: humanName, AuthorEmail: humanEmail},
	}
	files := map[string]string{"README.md": "platform config\n"}
	for _, app := range apps {
		files[overlayPath(app)] = prodOverlay(app, "ghcr.io/example/"+app, "1.8.3", digestA)
		// The base runs the image the overlay pins: a prod render has an object to judge
		// (a protected render of nothing is refused: Argo CD would prune everything).
		files["apps/"+app+"/base/kustomization.yaml"] = "resources: [config.yaml]\n"
		files["apps/"+app+"/base/config.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + app + "}\n"
	}
	_, err := f.human.Init(h.ctx, "main", files)
	h.g.Expect(err).NotTo(HaveOccurred())

	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: f.repo, Namespace: h.ns},
		Spec: sourcev1.GitRepositorySpec{
			URL:       url,
			Interval:  metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"},
		},
	}
	if len(data) > 0 {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-auth", Namespace: h.ns}, Data: data}
		h.g.Expect(k8s.Create(h.ctx, secret)).To(Succeed())
		repo.Spec.SecretRef = &meta.LocalObjectReference{Name: secret.Name}
	}
	h.g.Expect(k8s.Create(h.ctx, repo)).To(Succeed())
	return f
}

// head reads a branch from the server through a fresh clone: "" when it does not exist.
func (h *harness) head(f *fleet, branch string) string {
	h.t.Helper()
	auth, err := git.NewAuth(f.url, f.data)
	h.g.Expect(err).NotTo(HaveOccurred())
	auth.AllowInsecureHTTP = true
	s, err := git.NewCache(h.t.TempDir()).Open(h.ctx, f.url, auth)
	h.g.Expect(err).NotTo(HaveOccurred())
	defer s.Close()
	_, err = s.Fetch(h.ctx)
	h.g.Expect(err).NotTo(HaveOccurred())
	c, err := s.Head(branch)
	if errors.Is(err, git.ErrBranchNotFound) {
		return ""
	}
	h.g.Expect(err).NotTo(HaveOccurred())
	return c
}

// automation creates an ImageUpdateAutomation that checks out main, pushes to
// automation/<name> and updates the app's prod overlay.
func (h *harness) automation(f *fleet, name, app string, mutate ...func(*imagev1.ImageUpdateAutomation)) *imagev1.ImageUpdateAutomation {
	h.t.Helper()
	a := &imagev1.ImageUpdateAutomation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns},
		Spec: imagev1.ImageUpdateAutomationSpec{
			SourceRef: imagev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: f.repo},
			Interval:  metav1.Duration{Duration: time.Hour},
			GitSpec: &imagev1.GitSpec{
				Checkout: &imagev1.GitCheckoutSpec{Reference: sourcev1.GitRepositoryRef{Branch: "main"}},
				Commit:   imagev1.CommitSpec{Author: imagev1.CommitUser{Name: botName, Email: botEmail}},
				Push:     &imagev1.PushSpec{Branch: "automation/" + name},
			},
			Update: &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: "./apps/" + app + "/overlays/prod"},
		},
	}
	for _, m := range mutate {
		m(a)
	}
	h.g.Expect(k8s.Create(h.ctx, a)).To(Succeed())
	return a
}

// gate creates a PromotionGate for an automation, promoting to main.
func (h *harness) gate(name, automation string, mutate ...func(*gatev1.PromotionGate)) *gatev1.PromotionGate {
	h.t.Helper()
	g := &gatev1.PromotionGate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns},
		Spec: gatev1.PromotionGateSpec{
			AutomationRef: meta.LocalObjectReference{Name: automation},
			TargetBranch:  "main",
			Interval:      metav1.Duration{Duration: 30 * time.Second},
		},
	}
	for _, m := range mutate {
		m(g)
	}
	h.g.Expect(k8s.Create(h.ctx, g)).To(Succeed())
	return g
}

// iacPush plays image-automation-controller: commit files to the automation's push
// branch (created from main when missing) and record the push in its status.
func (h *harness) iacPush(f *fleet, a *imagev1.ImageUpdateAutomation, files map[string]string) string {
	h.t.Helper()
	commit, err := f.bot.Commit(h.ctx, "main", a.Spec.GitSpec.Push.Branch, files, "Update image")
	h.g.Expect(err).NotTo(HaveOccurred())
	h.setLastPush(a, commit)
	return commit
}

func (h *harness) setLastPush(a *imagev1.ImageUpdateAutomation, commit string) {
	h.t.Helper()
	h.g.Eventually(func() error {
		cur := &imagev1.ImageUpdateAutomation{}
		if err := k8s.Get(h.ctx, client.ObjectKeyFromObject(a), cur); err != nil {
			return err
		}
		before := cur.DeepCopy()
		now := metav1.Now()
		cur.Status.LastPushCommit = commit
		cur.Status.LastPushTime = &now
		if v, ok := meta.ReconcileAnnotationValue(cur.Annotations); ok {
			cur.Status.LastHandledReconcileAt = v
		}
		return k8s.Status().Patch(h.ctx, cur, client.MergeFrom(before))
	}).Should(Succeed())
}

// setPolicy creates or replaces the labelled policy ConfigMap.
func (h *harness) setPolicy(doc string) {
	h.t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "platform-policy", Namespace: h.ns,
		Labels: map[string]string{"promotion-gate.io/policy": "true"}}}
	err := k8s.Get(h.ctx, client.ObjectKeyFromObject(cm), cm)
	if apierrors.IsNotFound(err) {
		cm.Data = map[string]string{"base.yaml": doc}
		h.g.Expect(k8s.Create(h.ctx, cm)).To(Succeed())
		return
	}
	h.g.Expect(err).NotTo(HaveOccurred())
	cm.Data = map[string]string{"base.yaml": doc}
	h.g.Expect(k8s.Update(h.ctx, cm)).To(Succeed())
}

// getGate reads a gate fresh from the API server.
func (h *harness) getGate(name string) *gatev1.PromotionGate {
	g := &gatev1.PromotionGate{}
	h.g.Expect(k8s.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, g)).To(Succeed())
	return g
}

// poke asks the gate for a reconciliation, as `flux reconcile` would, and returns
// the request token.
func (h *harness) poke(name string) string {
	h.t.Helper()
	g := h.getGate(name)
	before := g.DeepCopy()
	if g.Annotations == nil {
		g.Annotations = map[string]string{}
	}
	token := time.Now().Format(time.RFC3339Nano)
	g.Annotations[meta.ReconcileRequestAnnotation] = token
	h.g.Expect(k8s.Patch(h.ctx, g, client.MergeFrom(before))).To(Succeed())
	return token
}

// waitHandled waits until the gate has handled the reconcile request token.
func (h *harness) waitHandled(name, token string) *gatev1.PromotionGate {
	h.t.Helper()
	var g *gatev1.PromotionGate
	h.g.Eventually(func() string {
		g = h.getGate(name)
		return g.Status.LastHandledReconcileAt
	}).Should(Equal(token))
	return g
}

// paymentsGate sets up the common case: one fleet repository over plain HTTP holding the
// payments-api app, the base policy, its prod automation and a gate on it.
func (h *harness) paymentsGate() (*fleet, *imagev1.ImageUpdateAutomation) {
	return h.paymentsGateWith()
}

// paymentsGateWith is paymentsGate with changes to the gate.
func (h *harness) paymentsGateWith(mutate ...func(*gatev1.PromotionGate)) (*fleet, *imagev1.ImageUpdateAutomation) {
	srv := gittest.NewHTTP(h.t, "", "")
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	h.setPolicy(basePolicy)
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.gate("payments-api-prod", a.Name, mutate...)
	return f, a
}
