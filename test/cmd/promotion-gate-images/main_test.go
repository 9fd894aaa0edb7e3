package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/test/images"
)

func TestKeygenWritesAKeyTheBuildReads(t *testing.T) {
	g := NewWithT(t)
	prefix := filepath.Join(t.TempDir(), "release")
	var out bytes.Buffer
	g.Expect(run(context.Background(), []string{"keygen", "-out", prefix}, &out, &out)).To(Succeed())
	k, err := images.LoadKey(prefix + ".pem")
	g.Expect(err).NotTo(HaveOccurred())
	pub, err := images.PublicKeyPEM(k)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(filepath.Join(prefix + ".pub")).To(BeAnExistingFile())
	g.Expect(string(pub)).To(HavePrefix("-----BEGIN PUBLIC KEY-----"))
}

func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "usage: promotion-gate-images build|push|keygen"},
		{[]string{"publish"}, `unknown command "publish"`},
		{[]string{"build", "-platforms", "darwin/arm64"}, `platform "darwin/arm64": write linux/<arch>`},
		{[]string{"build", "-images", "nginx", "-version", "v1", "-revision", "r"}, `unknown image "nginx"`},
		{[]string{"build", "-key", "/nonexistent/key.pem", "-version", "v1", "-revision", "r"}, "read signing key"},
		{[]string{"push", "-layout", "x"}, "push needs -layout and -to"},
		{[]string{"push", "-layout", "x", "-to", "Not A Ref"}, "-to Not A Ref"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", "1764000000")
			var out bytes.Buffer
			err := run(context.Background(), tt.args, &out, &out)
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tt.want)))
		})
	}
}
