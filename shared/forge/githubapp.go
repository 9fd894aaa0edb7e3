package forge

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-github/v88/github"
)

// GitHubApp are a GitHub App's credentials for one installation: the keys Flux's
// notification-controller reads from a Secret (githubAppID, githubAppInstallationID,
// githubAppPrivateKey).
type GitHubApp struct {
	AppID          int64
	InstallationID int64
	// PrivateKey is the App's PEM private key (PKCS#1 or PKCS#8 RSA).
	PrivateKey []byte
}

// ParseGitHubApp reads the App credentials from a Secret's data; nil when the data
// names no App.
func ParseGitHubApp(data map[string][]byte) (*GitHubApp, error) {
	id, inst, key := string(data["githubAppID"]), string(data["githubAppInstallationID"]), data["githubAppPrivateKey"]
	if id == "" && inst == "" && len(key) == 0 {
		return nil, nil
	}
	app := &GitHubApp{PrivateKey: key}
	var err error
	if app.AppID, err = strconv.ParseInt(id, 10, 64); err != nil {
		return nil, fmt.Errorf("githubAppID %q: want the App's numeric ID", id)
	}
	if app.InstallationID, err = strconv.ParseInt(inst, 10, 64); err != nil {
		return nil, fmt.Errorf("githubAppInstallationID %q: want the installation's numeric ID", inst)
	}
	if _, err := app.signer(); err != nil {
		return nil, err
	}
	return app, nil
}

func (a *GitHubApp) signer() (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(a.PrivateKey)
	if block == nil {
		return nil, errors.New("githubAppPrivateKey holds no PEM block: give the private key GitHub generated for the App")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("githubAppPrivateKey: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("githubAppPrivateKey is not an RSA key: GitHub Apps sign with RSA")
	}
	return rk, nil
}

// jwt is the App's own token, RS256-signed, as GitHub's App document describes:
// issued a minute in the past for clock drift, valid for nine minutes.
func (a *GitHubApp) jwt(now time.Time) (string, error) {
	key, err := a.signer()
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{
		"iat": now.Add(-time.Minute).Unix(),
		"exp": now.Add(9 * time.Minute).Unix(),
		"iss": strconv.FormatInt(a.AppID, 10),
	})
	if err != nil {
		return "", err
	}
	signing := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign the GitHub App token: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

var timeNow = time.Now

// appTransport authenticates each request with an installation token, minted with
// the App's JWT and renewed a few minutes before it expires.
type appTransport struct {
	app  *GitHubApp
	next http.RoundTripper
	api  *github.Client
	now  func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

func (t *appTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.installationToken(req)
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tok)
	return t.next.RoundTrip(req)
}

func (t *appTransport) installationToken(req *http.Request) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if t.token != "" && now.Add(5*time.Minute).Before(t.expires) {
		return t.token, nil
	}
	jwt, err := t.app.jwt(now)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errNoAppToken, err)
	}
	minter, err := t.api.Clone(github.WithAuthToken(jwt))
	if err != nil {
		return "", fmt.Errorf("%w: %w", errNoAppToken, err)
	}
	tok, resp, err := minter.Apps.CreateInstallationToken(req.Context(), t.app.InstallationID, nil)
	if err != nil {
		return "", fmt.Errorf("%w for installation %d of App %d: %w%s", errNoAppToken, t.app.InstallationID, t.app.AppID, err, githubHint(resp))
	}
	t.token, t.expires = tok.GetToken(), tok.GetExpiresAt().Time
	return t.token, nil
}
