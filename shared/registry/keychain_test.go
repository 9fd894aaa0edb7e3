package registry_test

import (
	"encoding/base64"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/registry"
)

func auth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

func TestKeychainFromDockerConfigs(t *testing.T) {
	pullSecret := `{"auths":{"https://index.docker.io/v1/":{"auth":"` + auth("hub", "hubpw") + `"},` +
		`"registry.example.com":{"username":"team","password":"teampw"},` +
		`"registry.example.com/payments":{"auth":"` + auth("payments", "paypw") + `"}}}`
	dockercfg := `{"ghcr.io":{"auth":"` + auth("gh", "ghpw") + `"}}`
	kc, err := registry.KeychainFromDockerConfigs([]byte(pullSecret), []byte(dockercfg))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		repo, user string
	}{
		{"nginx", "hub"},
		{"docker.io/bitnami/redis", "hub"},
		{"registry.example.com/team/app", "team"},
		{"registry.example.com/payments/api", "payments"},
		{"registry.example.com/paymentsx/api", "team"},
		{"ghcr.io/example/app", "gh"},
		{"quay.io/example/app", ""},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			g := NewWithT(t)
			repo, err := name.NewRepository(tt.repo)
			g.Expect(err).NotTo(HaveOccurred())
			a, err := kc.Resolve(repo)
			g.Expect(err).NotTo(HaveOccurred())
			cfg, err := a.Authorization()
			g.Expect(err).NotTo(HaveOccurred())
			if tt.user == "" {
				g.Expect(a).To(Equal(authn.Anonymous))
				return
			}
			g.Expect(cfg.Username).To(Equal(tt.user))
		})
	}
}

func TestKeychainErrors(t *testing.T) {
	for _, tt := range []struct{ name, data, want string }{
		{"not json", `{`, "docker config 1: not valid JSON"},
		{"bad auth", `{"auths":{"r.example.com":{"auth":"%%%"}}}`, "registry r.example.com: auth is not base64"},
		{"auth without colon", `{"auths":{"r.example.com":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("x")) + `"}}}`, "not base64 of user:password"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := registry.KeychainFromDockerConfigs([]byte(tt.data))
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tt.want)))
		})
	}
}

// FuzzKeychainFromDockerConfigs reads pull secrets, which users write: it must not
// panic, and what it accepts must resolve.
func FuzzKeychainFromDockerConfigs(f *testing.F) {
	f.Add([]byte(`{"auths":{"registry.example.com":{"auth":"` + auth("u", "p") + `"}}}`))
	f.Add([]byte(`{"ghcr.io":{"username":"u","password":"p"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		kc, err := registry.KeychainFromDockerConfigs(data)
		if err != nil {
			return
		}
		repo, _ := name.NewRepository("registry.example.com/app")
		if _, err := kc.Resolve(repo); err != nil {
			t.Fatal(err)
		}
	})
}
