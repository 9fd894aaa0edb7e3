package commitsig_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/go-git/go-billy/v5/memfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/commitsig"
	"github.com/promotion-gate/promotion-gate/shared/commitsig/commitsigtest"
)

// commit makes one commit in an in-memory repository, signed as opts says, and
// reads it back from storage as a verifier would.
func commit(t *testing.T, opts gogit.CommitOptions) *object.Commit {
	t.Helper()
	repo, err := gogit.Init(memory.NewStorage(), memfs.New())
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	opts.AllowEmptyCommits = true
	opts.Author = &object.Signature{Name: "Fluxcd Bot", Email: "bot@example.com", When: time.Unix(1_700_000_000, 0).UTC()}
	h, err := wt.Commit("promote payments-api to v1.2.3\n", &opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(h)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerify(t *testing.T) {
	pgp := commitsigtest.NewOpenPGPKey(t, "Release Bot", "release@example.com")
	otherPGP := commitsigtest.NewOpenPGPKey(t, "Someone Else", "else@example.com")
	sshKey := commitsigtest.NewSSHKey(t)
	otherSSH := commitsigtest.NewSSHKey(t)
	fileNS := sshKey
	fileNS.Namespace = "file"

	keys := []commitsig.Key{
		{Name: "release-pgp", OpenPGP: pgp.Public},
		{Name: "release-ssh", SSH: append([]byte("# the release bot\n"), sshKey.AuthorizedKey...)},
	}
	tampered := commit(t, gogit.CommitOptions{SignKey: pgp.Entity})
	tampered.Message = "promote payments-api to v9.9.9\n"
	tamperedSSH := commit(t, gogit.CommitOptions{Signer: sshKey})
	tamperedSSH.Author.Email = "mallory@example.com"

	tests := []struct {
		name   string
		commit *object.Commit
		signer string
		err    error
		text   string
	}{
		{name: "unsigned", commit: commit(t, gogit.CommitOptions{}), err: commitsig.ErrUnsigned, text: "unsigned"},
		{name: "openpgp good", commit: commit(t, gogit.CommitOptions{SignKey: pgp.Entity}), signer: "release-pgp"},
		{name: "ssh good", commit: commit(t, gogit.CommitOptions{Signer: sshKey}), signer: "release-ssh"},
		{name: "openpgp unknown key", commit: commit(t, gogit.CommitOptions{SignKey: otherPGP.Entity}),
			err: commitsig.ErrUnknownKey, text: "signed by an unknown key " + keyIDOf(otherPGP.Entity)},
		{name: "ssh unknown key", commit: commit(t, gogit.CommitOptions{Signer: otherSSH}),
			err: commitsig.ErrUnknownKey, text: "signed by an unknown key SHA256:"},
		{name: "openpgp bad signature", commit: tampered, err: commitsig.ErrBadSignature, text: "bad signature"},
		{name: "ssh bad signature", commit: tamperedSSH, err: commitsig.ErrBadSignature, text: "bad signature"},
		{name: "ssh signature for another namespace", commit: commit(t, gogit.CommitOptions{Signer: fileNS}),
			err: commitsig.ErrBadSignature, text: "namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			signer, err := commitsig.Verify(tt.commit, keys)
			if tt.err == nil {
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(signer).To(Equal(tt.signer))
				return
			}
			g.Expect(err).To(MatchError(tt.err))
			g.Expect(err.Error()).To(ContainSubstring(tt.text))
			g.Expect(err.Error()).To(ContainSubstring(tt.commit.Hash.String()[:12]))
			g.Expect(signer).To(BeEmpty())
		})
	}
}

func keyIDOf(e *openpgp.Entity) string {
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}

func TestVerifyUnsupportedSignature(t *testing.T) {
	g := NewWithT(t)
	c := commit(t, gogit.CommitOptions{})
	c.PGPSignature = "-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n"
	_, err := commitsig.Verify(c, []commitsig.Key{{Name: "k", SSH: commitsigtest.NewSSHKey(t).AuthorizedKey}})
	g.Expect(err).To(MatchError(commitsig.ErrBadSignature))
	g.Expect(err.Error()).To(ContainSubstring("X.509"))
}

func TestParseKeysNamesTheBadKey(t *testing.T) {
	tests := []struct {
		name string
		key  commitsig.Key
		text string
	}{
		{name: "empty", key: commitsig.Key{Name: "nobody"}, text: "invalid signer key nobody: no OpenPGP or SSH public key given"},
		{name: "openpgp garbage", key: commitsig.Key{Name: "pgp", OpenPGP: []byte("not a key")}, text: "invalid signer key pgp: read OpenPGP public key"},
		{name: "ssh garbage", key: commitsig.Key{Name: "ssh", SSH: []byte("ssh-ed25519 AAAA\n")}, text: "invalid signer key ssh: SSH key on line 1"},
		{name: "ssh only comments", key: commitsig.Key{Name: "ssh", SSH: []byte("# nothing\n")}, text: "invalid signer key ssh: no SSH public key found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := commitsig.ParseKeys([]commitsig.Key{tt.key})
			g.Expect(err).To(MatchError(commitsig.ErrInvalidKey))
			g.Expect(err.Error()).To(ContainSubstring(tt.text))
			g.Expect(errors.Is(err, commitsig.ErrUnsigned)).To(BeFalse())
		})
	}
}
