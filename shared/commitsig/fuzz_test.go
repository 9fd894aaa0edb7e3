package commitsig_test

import (
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/promotion-gate/promotion-gate/shared/commitsig"
	"github.com/promotion-gate/promotion-gate/shared/commitsig/commitsigtest"
)

// FuzzParseKeys feeds untrusted key material (it comes from the policy, a Secret or a
// ConfigMap) to both parsers: they must return a key ring or an error, never panic.
func FuzzParseKeys(f *testing.F) {
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n"),
		[]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB5Y7xS9ZQ9K0yX3aG0f4hWm6Yd3k2m6Yd3k2m6Yd3k2 bot@example.com\n"))
	f.Add([]byte{}, []byte("# comment\n\ncommand=\"x\" ssh-rsa AAAA\n"))
	f.Fuzz(func(t *testing.T, pgp, ssh []byte) {
		ring, err := commitsig.ParseKeys([]commitsig.Key{{Name: "fuzz", OpenPGP: pgp, SSH: ssh}})
		if err == nil && ring == nil {
			t.Fatal("no error and no key ring")
		}
	})
}

// FuzzVerifySignature feeds untrusted signatures (a commit's gpgsig header is written by
// whoever pushed it) to Verify: it must return a signer or an error, never panic, and
// never accept a signature that is not the real one.
func FuzzVerifySignature(f *testing.F) {
	f.Add("-----BEGIN PGP SIGNATURE-----\n\nwnUEABYKAB0WIQQ\n-----END PGP SIGNATURE-----\n")
	f.Add("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n")
	// Fresh keys whose private halves the fuzzer never sees.
	ring, err := commitsig.ParseKeys([]commitsig.Key{
		{Name: "pgp", OpenPGP: commitsigtest.NewOpenPGPKey(f, "Release", "release@example.com").Public},
		{Name: "ssh", SSH: commitsigtest.NewSSHKey(f).AuthorizedKey},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sig string) {
		c := &object.Commit{
			Author:       object.Signature{Name: "Flux", Email: "flux@example.com", When: time.Unix(1_700_000_000, 0).UTC()},
			Committer:    object.Signature{Name: "Flux", Email: "flux@example.com", When: time.Unix(1_700_000_000, 0).UTC()},
			Message:      "promote payments-api\n",
			PGPSignature: sig,
		}
		signer, err := ring.Verify(c)
		if err == nil {
			t.Fatalf("a fuzzed signature verified as %s", signer)
		}
	})
}
