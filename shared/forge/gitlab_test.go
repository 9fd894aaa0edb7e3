package forge_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/forge"
)

// gitlabClient points a GitLab client at a replay of GitLab's documented REST API v4
// (docs.gitlab.com/api: commits#set-the-pipeline-status-of-a-commit, merge_requests,
// merge_request_approvals): not a real server, see exchange. The project is in a
// subgroup, so its path is URL-encoded as one segment.
func gitlabClient(t *testing.T, ex []exchange) forge.Client {
	t.Helper()
	srv := replay(t, ex)
	repo, err := forge.ParseRepository(srv.URL+"/platform/prod/fleet.git", forge.GitLab, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := forge.New(forge.Options{Repository: repo, Credentials: forge.Credentials{Token: "glpat-token"}, Retry: forge.Retry{Wait: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const gitlabProject = "/api/v4/projects/platform%2Fprod%2Ffleet"

// GitLab has no "error" state: a commit that could not be judged is "failed", never
// mergeable; pending is "running". A 429 with Retry-After is retried. The merge
// request is opened, then updated; the merge reads merged_by and the approvals.
func TestGitLabRecordedExchanges(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	token := func(t *testing.T, r *http.Request, body map[string]any) {
		if got := r.Header.Get("PRIVATE-TOKEN"); got != "glpat-token" {
			t.Errorf("PRIVATE-TOKEN %q, want the token", got)
		}
		if d, ok := body["description"].(string); ok && utf8.RuneCountInString(d) > forge.DescriptionLimit(forge.GitLab) {
			t.Errorf("description of %d characters", utf8.RuneCountInString(d))
		}
	}
	mr := func(state, sha, body string) string {
		return `{"id": 90, "iid": 3, "state": "` + state + `", "title": "Promote automation/prod to main (prod)", "description": "` + body + `",
		  "source_branch": "automation/prod", "target_branch": "main", "sha": "` + sha + `",
		  "web_url": "https://gitlab.example.com/platform/prod/fleet/-/merge_requests/3"`
	}
	c := gitlabClient(t, []exchange{
		{method: "POST", path: gitlabProject + "/statuses/" + heldSHA, check: token,
			body:   map[string]any{"state": "failed", "name": "promotion-gate/prod"},
			status: 429, header: map[string]string{"Retry-After": "0", "RateLimit-Remaining": "0"}, response: `{"message": "429 Too Many Requests"}`},
		{method: "POST", path: gitlabProject + "/statuses/" + heldSHA, check: token,
			body:   map[string]any{"state": "failed", "name": "promotion-gate/prod", "target_url": "https://gate.example.com/prod"},
			status: 201, response: `{"id": 1, "sha": "` + heldSHA + `", "status": "failed", "name": "promotion-gate/prod"}`},
		{method: "POST", path: gitlabProject + "/statuses/" + goodSHA, body: map[string]any{"state": "running"},
			status: 201, response: `{"id": 2, "status": "running"}`},
		{method: "GET", path: gitlabProject + "/merge_requests",
			query:  map[string]string{"state": "opened", "source_branch": "automation/prod", "target_branch": "main"},
			status: 200, response: `[]`},
		{method: "POST", path: gitlabProject + "/merge_requests",
			body:   map[string]any{"source_branch": "automation/prod", "target_branch": "main", "title": "Promote automation/prod to main (prod)", "description": "held"},
			status: 201, response: mr("opened", heldSHA, "held") + "}"},
		{method: "GET", path: gitlabProject + "/merge_requests", query: map[string]string{"state": "opened"},
			status: 200, response: "[" + mr("opened", goodSHA, "held") + "}]"},
		{method: "PUT", path: gitlabProject + "/merge_requests/3", body: map[string]any{"description": "passed"},
			status: 200, response: mr("opened", goodSHA, "passed") + "}"},
		{method: "GET", path: gitlabProject + "/merge_requests", query: map[string]string{"state": "merged", "source_branch": "automation/prod"},
			status: 200, response: "[" + mr("merged", goodSHA, "passed") + `, "merge_commit_sha": null, "merged_by": {"id": 5, "username": "erin", "name": "Erin"}}]`},
		{method: "GET", path: gitlabProject + "/merge_requests/3/approvals",
			status: 200, response: `{"id": 90, "iid": 3, "approved": true, "approved_by": [{"user": {"id": 4, "username": "dana", "name": "Dana"}}]}`},
	})
	g.Expect(c.SetStatus(ctx, forge.Status{Commit: heldSHA, State: forge.Error, Context: "promotion-gate/prod",
		Description: strings.Repeat("could not judge ", 40), TargetURL: "https://gate.example.com/prod"})).To(Succeed())
	g.Expect(c.SetStatus(ctx, forge.Status{Commit: goodSHA, State: forge.Pending, Context: "promotion-gate/prod", Description: "judging"})).To(Succeed())
	req := forge.ChangeRequest{Head: "automation/prod", Base: "main", Title: "Promote automation/prod to main (prod)", Body: "held"}
	ch, err := c.EnsureChange(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ch.Number).To(BeEquivalentTo(3))
	req.Body = "passed"
	ch, err = c.EnsureChange(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ch.Body).To(Equal("passed"))
	merged, err := c.MergedChange(ctx, "automation/prod", "main", goodSHA)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(merged).NotTo(BeNil())
	g.Expect(merged.MergedBy).To(Equal("erin"))
	g.Expect(merged.ApprovedBy).To(Equal([]string{"dana"}))
	g.Expect(merged.MergeCommit).To(Equal(goodSHA), "a fast-forward merge leaves the target at the head")
}
