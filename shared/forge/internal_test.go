package forge

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		wait   time.Duration
		retry  bool
	}{
		{"ok", 200, nil, 0, false},
		{"not found", 404, nil, 0, false},
		{"forbidden, no rate limit", 403, map[string]string{"X-RateLimit-Remaining": "12"}, 0, false},
		{"primary rate limit", 403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Unix()+30, 10)}, 31 * time.Second, true},
		{"secondary rate limit", 403, map[string]string{"Retry-After": "60"}, time.Minute, true},
		{"gitlab 429", 429, map[string]string{"RateLimit-Reset": strconv.FormatInt(now.Unix()+5, 10)}, 6 * time.Second, true},
		{"429 with a date", 429, map[string]string{"Retry-After": now.Add(10 * time.Second).UTC().Format(http.TimeFormat)}, 10 * time.Second, true},
		{"bad gateway", 502, nil, 0, true},
		{"internal error", 500, nil, 0, true},
		{"not implemented", 501, nil, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
			for k, v := range tc.header {
				resp.Header.Set(k, v)
			}
			wait, retry := retryAfter(resp, now)
			if wait != tc.wait || retry != tc.retry {
				t.Fatalf("retryAfter = %s, %v; want %s, %v", wait, retry, tc.wait, tc.retry)
			}
		})
	}
}

func TestApprovers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		reviews []review
		want    []string
	}{
		{"none", nil, nil},
		{"one approval", []review{{user: "dana", says: approved, commit: "h"}}, []string{"dana"}},
		{"comment after approval keeps it", []review{{user: "dana", says: approved, commit: "h"}, {user: "dana", says: commented, commit: "h"}}, []string{"dana"}},
		{"changes requested withdraws it", []review{{user: "dana", says: approved, commit: "h"}, {user: "dana", says: changesRequested, commit: "h"}}, nil},
		{"dismissed", []review{{user: "dana", says: approved, commit: "h", dismissed: true}}, nil},
		{"approval of another head", []review{{user: "dana", says: approved, commit: "old"}}, nil},
		{"forge without commits", []review{{user: "dana", says: approved}, {user: "erin", says: approved}}, []string{"dana", "erin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := approvers(tc.reviews, "h")
			if len(got) != len(tc.want) {
				t.Fatalf("approvers = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("approvers = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestShorten(t *testing.T) {
	if got := shorten("a  b\nc", 10); got != "a b c" {
		t.Fatalf("shorten joins whitespace: %q", got)
	}
	if got := shorten("ééééé", 3); got != "éé…" {
		t.Fatalf("shorten counts characters: %q", got)
	}
}
