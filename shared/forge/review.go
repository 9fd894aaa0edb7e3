package forge

import "net/http"

// verdict is what a review says of a pull request.
type verdict int

const (
	commented verdict = iota
	approved
	changesRequested
)

// review is one review of a pull request, in any forge's words, in the order given.
type review struct {
	user      string
	says      verdict
	dismissed bool
	// commit is the head the review was given on; empty when the forge does not say.
	commit string
}

// approvers are the people whose last approving or rejecting review approves head: a
// comment changes nothing, a later request for changes withdraws an approval, a
// dismissed approval counts for nothing, and an approval given on another head is
// not an approval of what was merged.
func approvers(reviews []review, head string) []string {
	last := map[string]review{}
	var order []string
	for _, r := range reviews {
		if r.says == commented {
			continue
		}
		if _, seen := last[r.user]; !seen {
			order = append(order, r.user)
		}
		last[r.user] = r
	}
	var out []string
	for _, u := range order {
		r := last[u]
		if r.says == approved && !r.dismissed && (r.commit == "" || head == "" || r.commit == head) {
			out = append(out, u)
		}
	}
	return out
}

// statusHint turns an HTTP status into what a person can do about it.
func statusHint(code int) string {
	switch code {
	case http.StatusUnauthorized:
		return " (the token was refused: check it and that it has not expired)"
	case http.StatusForbidden:
		return " (the token lacks a permission: see the least permissions in docs/flux.md)"
	case http.StatusNotFound:
		return " (no such repository for this token: check the repository URL, the provider address and that the token can read the repository)"
	case http.StatusUnprocessableEntity:
		return " (the forge refused the request as invalid)"
	}
	return ""
}
