package gitrev

import (
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	. "github.com/onsi/gomega"
)

func TestTags(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	g.Expect(err).NotTo(HaveOccurred())
	commitFiles(t, repo, dir, map[string]string{"a.yaml": "a: 1\n"})
	head, err := repo.Head()
	g.Expect(err).NotTo(HaveOccurred())

	tagger := &object.Signature{Name: "gate", Email: "gate@example.com", When: time.Unix(1700000000, 0)}
	for _, name := range []string{"prod-2026-06-01-002", "prod-2026-06-01-001", "dev-2026-06-01-001"} {
		_, err := repo.CreateTag(name, head.Hash(), &git.CreateTagOptions{Tagger: tagger, Message: "record " + name + "\n"})
		g.Expect(err).NotTo(HaveOccurred())
	}
	// A lightweight tag holds no message, so no record: it is skipped.
	g.Expect(repo.Storer.SetReference(plumbing.NewHashReference("refs/tags/prod-light", head.Hash()))).To(Succeed())

	names := func(tags []Tag) (out []string) {
		for _, tg := range tags {
			g.Expect(tg.Commit).To(Equal(head.Hash().String()))
			g.Expect(tg.Message).To(Equal("record " + tg.Name + "\n"))
			g.Expect(tg.Object).NotTo(BeNil())
			out = append(out, tg.Name)
		}
		return out
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"dev-2026-06-01-001", "prod-2026-06-01-001", "prod-2026-06-01-002"}},
		{"prod-", []string{"prod-2026-06-01-001", "prod-2026-06-01-002"}},
		{"staging-", nil},
	} {
		tags, err := New(repo).Tags(tc.prefix)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(names(tags)).To(Equal(tc.want), "prefix %q", tc.prefix)
	}
}
