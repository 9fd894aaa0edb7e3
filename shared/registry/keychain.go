package registry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// dockerHubKeys are the spellings of Docker Hub in docker config files.
var dockerHubKeys = []string{"index.docker.io", "docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"}

// entry is one credential of a docker config.
type entry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// Keychain holds credentials read from docker config files, matched by registry host and
// optional repository path prefix (the longest match wins), as the kubelet matches
// image pull secrets. Its zero value has no credentials and reads anonymously.
type Keychain struct {
	// keys are normalised "host[/path]" entries.
	keys map[string]authn.AuthConfig
}

// KeychainFromDockerConfigs reads credentials from the content of Kubernetes image pull
// secrets (".dockerconfigjson": {"auths": {...}}, or the older ".dockercfg": {...}) and of
// docker config.json files. A later config's entry for the same key wins.
func KeychainFromDockerConfigs(configs ...[]byte) (authn.Keychain, error) {
	k := &Keychain{keys: map[string]authn.AuthConfig{}}
	for i, data := range configs {
		var doc struct {
			Auths map[string]entry `json:"auths"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("docker config %d: not valid JSON: %w; give the content of .dockerconfigjson, .dockercfg or config.json", i+1, err)
		}
		entries := doc.Auths
		if entries == nil {
			// .dockercfg has the entries at the top level.
			if err := json.Unmarshal(data, &entries); err != nil {
				return nil, fmt.Errorf("docker config %d: no \"auths\" and not a .dockercfg map of registries: %w", i+1, err)
			}
		}
		for key, e := range entries {
			cfg, err := e.authConfig()
			if err != nil {
				return nil, fmt.Errorf("docker config %d: registry %s: %w", i+1, key, err)
			}
			k.keys[normalise(key)] = cfg
		}
	}
	return k, nil
}

func (e entry) authConfig() (authn.AuthConfig, error) {
	cfg := authn.AuthConfig{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Auth != "" {
		raw, err := base64.StdEncoding.DecodeString(e.Auth)
		if err != nil {
			return cfg, fmt.Errorf("auth is not base64 of user:password: %w", err)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return cfg, fmt.Errorf("auth is not base64 of user:password")
		}
		cfg.Username, cfg.Password = user, pass
	}
	return cfg, nil
}

// normalise drops a URL scheme, a "/v1/" or "/v2/" API suffix and trailing slashes, and
// spells Docker Hub one way.
func normalise(key string) string {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	key = strings.TrimSuffix(key, "/")
	key = strings.TrimSuffix(strings.TrimSuffix(key, "/v1"), "/v2")
	host, path, _ := strings.Cut(key, "/")
	host = strings.ToLower(host)
	for _, hub := range dockerHubKeys {
		if host == normaliseHost(hub) {
			host = name.DefaultRegistry
		}
	}
	if path == "" {
		return host
	}
	return host + "/" + path
}

func normaliseHost(k string) string {
	k = strings.TrimPrefix(k, "https://")
	h, _, _ := strings.Cut(k, "/")
	return h
}

// Resolve implements authn.Keychain: the credentials of the longest key that is the
// target's registry, or a path prefix of its repository; anonymous when none matches.
func (k *Keychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	if k == nil || len(k.keys) == 0 {
		return authn.Anonymous, nil
	}
	host := strings.ToLower(target.RegistryStr())
	full := host
	if repo, ok := target.(name.Repository); ok {
		full = host + "/" + repo.RepositoryStr()
	}
	best, found := "", false
	for key := range k.keys {
		if (key == host || key == full || strings.HasPrefix(full, key+"/")) && len(key) >= len(best) {
			best, found = key, true
		}
	}
	if !found {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(k.keys[best]), nil
}
