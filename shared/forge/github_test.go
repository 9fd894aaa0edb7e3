package forge_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/forge"
)

const (
	heldSHA = "1111111111111111111111111111111111111111"
	goodSHA = "2222222222222222222222222222222222222222"
)

// githubClient points a GitHub client at a replay of GitHub's documented REST API
// (docs.github.com/rest: commits/statuses, pulls, pulls/reviews, apps): not a real
// server, see exchange.
func githubClient(t *testing.T, ex []exchange, creds forge.Credentials) forge.Client {
	t.Helper()
	srv := replay(t, ex)
	repo, err := forge.ParseRepository("https://github.example.com/example/fleet.git", forge.GitHub, srv.URL+"/api/v3")
	if err != nil {
		t.Fatal(err)
	}
	c, err := forge.New(forge.Options{Repository: repo, Credentials: creds, Retry: forge.Retry{Wait: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func bearer(want string) func(t *testing.T, r *http.Request, _ map[string]any) {
	return func(t *testing.T, r *http.Request, _ map[string]any) {
		if got := r.Header.Get("Authorization"); !strings.EqualFold(got, "Bearer "+want) {
			t.Errorf("%s %s: Authorization %q, want Bearer %s", r.Method, r.URL.Path, got, want)
		}
	}
}

const githubPull = `{"number": 7, "state": "open", "title": "Promote automation/prod to main (prod)", "body": "%s",
  "html_url": "https://github.example.com/example/fleet/pull/7",
  "head": {"ref": "automation/prod", "sha": "%s"}, "base": {"ref": "main", "sha": "0000000000000000000000000000000000000000"}}`

func githubPullJSON(body, sha string) string {
	b, _ := json.Marshal(body)
	return strings.Replace(strings.Replace(githubPull, `"%s"`, string(b), 1), "%s", sha, 1)
}

// The status is posted with the state, the context, a description within GitHub's
// 140 characters and the target URL, after a secondary rate limit (403 with
// Retry-After) and a 502 are retried; the pull request is opened once and then
// edited; the merge reads merged_by from the pull request and the approvals that
// stand from its reviews.
func TestGitHubRecordedExchanges(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	long := strings.Repeat("Denied in prod: prod-immutable-images: image ghcr.io/example/app:latest uses tag latest ", 4)
	statusBody := map[string]any{"state": "failure", "context": "promotion-gate/prod", "target_url": "https://gate.example.com/prod"}
	checkDescription := func(t *testing.T, _ *http.Request, body map[string]any) {
		d, _ := body["description"].(string)
		if n := utf8.RuneCountInString(d); n == 0 || n > 140 {
			t.Errorf("description of %d characters, want 1 to 140: %q", n, d)
		}
	}
	c := githubClient(t, []exchange{
		{method: "POST", path: "/api/v3/repos/example/fleet/statuses/" + heldSHA, body: statusBody, check: checkDescription,
			status: 403, header: map[string]string{"Retry-After": "0"},
			response: `{"message": "You have exceeded a secondary rate limit.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`},
		{method: "POST", path: "/api/v3/repos/example/fleet/statuses/" + heldSHA, body: statusBody, status: 502, response: `{"message": "Server Error"}`},
		{method: "POST", path: "/api/v3/repos/example/fleet/statuses/" + heldSHA, body: statusBody, check: bearer("ghp_token"),
			status: 201, response: `{"id": 1, "state": "failure", "context": "promotion-gate/prod"}`},
		{method: "GET", path: "/api/v3/repos/example/fleet/pulls", query: map[string]string{"state": "open", "head": "example:automation/prod", "base": "main"},
			status: 200, response: `[]`},
		{method: "POST", path: "/api/v3/repos/example/fleet/pulls",
			body:   map[string]any{"head": "automation/prod", "base": "main", "title": "Promote automation/prod to main (prod)", "body": "held"},
			status: 201, response: githubPullJSON("held", heldSHA)},
		{method: "GET", path: "/api/v3/repos/example/fleet/pulls", query: map[string]string{"state": "open", "head": "example:automation/prod"},
			status: 200, response: "[" + githubPullJSON("held", goodSHA) + "]"},
		{method: "PATCH", path: "/api/v3/repos/example/fleet/pulls/7", body: map[string]any{"body": "passed"},
			status: 200, response: githubPullJSON("passed", goodSHA)},
		{method: "GET", path: "/api/v3/repos/example/fleet/pulls", query: map[string]string{"state": "closed", "head": "example:automation/prod", "base": "main"},
			status: 200, response: `[{"number": 7, "state": "closed", "merged_at": "2026-12-01T10:00:00Z", "merge_commit_sha": "` + goodSHA + `",
			  "head": {"ref": "automation/prod", "sha": "` + goodSHA + `"}, "base": {"ref": "main"}}]`},
		{method: "GET", path: "/api/v3/repos/example/fleet/pulls/7",
			status: 200, response: `{"number": 7, "state": "closed", "merged": true, "merged_at": "2026-12-01T10:00:00Z",
			  "merge_commit_sha": "` + goodSHA + `", "merged_by": {"login": "erin"}, "html_url": "https://github.example.com/example/fleet/pull/7",
			  "head": {"ref": "automation/prod", "sha": "` + goodSHA + `"}, "base": {"ref": "main"}}`},
		{method: "GET", path: "/api/v3/repos/example/fleet/pulls/7/reviews",
			status: 200, response: `[
			  {"id": 1, "user": {"login": "frank"}, "state": "APPROVED", "commit_id": "` + heldSHA + `"},
			  {"id": 2, "user": {"login": "dana"}, "state": "APPROVED", "commit_id": "` + goodSHA + `"},
			  {"id": 3, "user": {"login": "dana"}, "state": "COMMENTED", "commit_id": "` + goodSHA + `"},
			  {"id": 4, "user": {"login": "gus"}, "state": "APPROVED", "commit_id": "` + goodSHA + `"},
			  {"id": 5, "user": {"login": "gus"}, "state": "CHANGES_REQUESTED", "commit_id": "` + goodSHA + `"},
			  {"id": 6, "user": {"login": "hal"}, "state": "DISMISSED", "commit_id": "` + goodSHA + `"}]`},
	}, forge.Credentials{Token: "ghp_token"})

	g.Expect(c.SetStatus(ctx, forge.Status{Commit: heldSHA, State: forge.Failure, Context: "promotion-gate/prod",
		Description: long, TargetURL: "https://gate.example.com/prod"})).To(Succeed())
	req := forge.ChangeRequest{Head: "automation/prod", Base: "main", Title: "Promote automation/prod to main (prod)", Body: "held"}
	pr, err := c.EnsureChange(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pr.Number).To(BeEquivalentTo(7))
	g.Expect(pr.HeadCommit).To(Equal(heldSHA))
	g.Expect(pr.Open).To(BeTrue())
	req.Body = "passed"
	pr, err = c.EnsureChange(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pr.Body).To(Equal("passed"))
	merged, err := c.MergedChange(ctx, "automation/prod", "main", goodSHA)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(merged.MergedBy).To(Equal("erin"))
	g.Expect(merged.ApprovedBy).To(Equal([]string{"dana"}), "frank approved another head, gus withdrew, hal's was dismissed")
	g.Expect(merged.MergeCommit).To(Equal(goodSHA))
}

// A status GitHub keeps refusing with 5xx is an error after the retries: never success.
func TestGitHubStatusNotPostedIsAnError(t *testing.T) {
	g := NewWithT(t)
	var ex []exchange
	for range 5 {
		ex = append(ex, exchange{method: "POST", path: "/api/v3/repos/example/fleet/statuses/" + goodSHA, status: 503, response: `{"message": "unavailable"}`})
	}
	c := githubClient(t, ex, forge.Credentials{Token: "ghp_token"})
	err := c.SetStatus(context.Background(), forge.Status{Commit: goodSHA, State: forge.Success, Context: "promotion-gate/prod", Description: "Allowed"})
	g.Expect(err).To(MatchError(ContainSubstring("503")))
}

// A GitHub App mints an installation token with a JWT signed by its key (the App
// document: RS256, iss the App ID) and uses it for the API.
func TestGitHubAppInstallationToken(t *testing.T) {
	g := NewWithT(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	g.Expect(err).NotTo(HaveOccurred())
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	app, err := forge.ParseGitHubApp(map[string][]byte{"githubAppID": []byte("1234"), "githubAppInstallationID": []byte("42"), "githubAppPrivateKey": pemKey})
	g.Expect(err).NotTo(HaveOccurred())
	checkJWT := func(t *testing.T, r *http.Request, _ map[string]any) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			t.Fatalf("Authorization %q is no JWT", r.Header.Get("Authorization"))
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			t.Errorf("JWT signature: %v", err)
		}
		claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		_ = json.Unmarshal(claims, &c)
		if c["iss"] != "1234" {
			t.Errorf("JWT iss %v, want the App ID 1234", c["iss"])
		}
	}
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	c := githubClient(t, []exchange{
		{method: "POST", path: "/api/v3/app/installations/42/access_tokens", check: checkJWT,
			status: 201, response: `{"token": "ghs_installation", "expires_at": "` + expires + `"}`},
		{method: "POST", path: "/api/v3/repos/example/fleet/statuses/" + goodSHA, check: bearer("ghs_installation"),
			status: 201, response: `{"id": 2, "state": "success"}`},
		{method: "POST", path: "/api/v3/repos/example/fleet/statuses/" + goodSHA, check: bearer("ghs_installation"),
			status: 201, response: `{"id": 3, "state": "success"}`},
	}, forge.Credentials{GitHubApp: app})
	for range 2 { // the second request reuses the token
		g.Expect(c.SetStatus(context.Background(), forge.Status{Commit: goodSHA, State: forge.Success, Context: "promotion-gate/prod", Description: "Allowed"})).To(Succeed())
	}
}
