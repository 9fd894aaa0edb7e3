package supplychain_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/supplychain"
)

// Processes that share a cache directory share their successes: the Argo CD sidecar runs
// one process per render. Each verifier here stands for one process.
func TestDirCacheIsSharedBetweenProcesses(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	rule := signaturesRule(e.keyAuthority("release", e.key))
	img := e.reg.PushImage(t, "payments-api", "1.4.2")
	e.reg.PushBundle(t, img, e.key.SignImage(t, img))
	dir := filepath.Join(t.TempDir(), "verified")
	now := time.Now()
	verify := func(at time.Time) []evaluate.Violation {
		t.Helper()
		cache, err := supplychain.NewDirCache(dir, 10*time.Minute)
		g.Expect(err).NotTo(HaveOccurred())
		c := check(t, rule, img.DigestRef())
		c.Now = at
		vs, err := e.verifierWith(supplychain.Options{Cache: cache}).Signatures(context.Background(), c)
		g.Expect(err).NotTo(HaveOccurred())
		return vs
	}

	e.reg.ResetCounts()
	g.Expect(verify(now)).To(BeEmpty())
	g.Expect(e.reg.Requests()).To(BeNumerically(">", 0))
	fi, err := os.Stat(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o700)))

	e.reg.ResetCounts()
	g.Expect(verify(now.Add(time.Minute))).To(BeEmpty())
	g.Expect(e.reg.Requests()).To(Equal(0), "a second process reads the success from the directory: %v", e.reg.Counts())

	e.reg.ResetCounts()
	g.Expect(verify(now.Add(11 * time.Minute))).To(BeEmpty())
	g.Expect(e.reg.Requests()).To(BeNumerically(">", 0), "an expired entry counts for nothing")
}

func TestDirCacheIgnoresWhatItDidNotWrite(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	rule := signaturesRule(e.keyAuthority("release", e.key))
	unsigned := e.reg.PushImage(t, "payments-api", "1.4.3")
	dir := t.TempDir()
	cache, err := supplychain.NewDirCache(dir, 0)
	g.Expect(err).NotTo(HaveOccurred())
	vs, err := e.verifierWith(supplychain.Options{Cache: cache}).Signatures(context.Background(), check(t, rule, unsigned.DigestRef()))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(vs).NotTo(BeEmpty(), "an unsigned image is denied")
	entries, _ := os.ReadDir(dir)
	g.Expect(entries).To(BeEmpty(), "violations are not cached")

	g.Expect(os.WriteFile(filepath.Join(dir, "not-an-entry"), []byte("forever"), 0o600)).To(Succeed())
	_, err = supplychain.NewDirCache(dir, 0)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = os.Stat(filepath.Join(dir, "not-an-entry"))
	g.Expect(os.IsNotExist(err)).To(BeTrue(), "a file that is not an entry is swept")
}

func TestDirCacheRefusesASharedDirectory(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(os.Chmod(dir, 0o777)).To(Succeed())
	_, err := supplychain.NewDirCache(dir, 0)
	g.Expect(err).To(MatchError(ContainSubstring("others can write it")))
}
