package forge_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// exchange is one recorded request and the answer to it. The GitHub and GitLab
// client tests replay exchanges written from those forges' published REST API
// documents (paths, query parameters, JSON fields and status codes as documented).
// They are not real servers: they check that the clients speak the documented API
// and read its documented answers, in order.
type exchange struct {
	method, path string
	// query are query parameters the request must carry (others are allowed).
	query map[string]string
	// body are JSON fields the request body must carry, compared as decoded JSON.
	body map[string]any
	// check looks at anything else of the request (a header).
	check  func(t *testing.T, r *http.Request, body map[string]any)
	status int
	header map[string]string
	// response is the JSON answer.
	response string
}

// replay serves the exchanges in order and fails the test on a request that is not
// the next one, and at the end on exchanges never asked for.
func replay(t *testing.T, exchanges []exchange) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(exchanges) {
			t.Errorf("unexpected request %s %s: every recorded exchange was served", r.Method, r.URL)
			http.Error(w, "no more exchanges", http.StatusTeapot)
			return
		}
		ex := exchanges[next]
		next++
		if r.Method != ex.method || r.URL.EscapedPath() != ex.path {
			t.Errorf("exchange %d: got %s %s, want %s %s", next, r.Method, r.URL.EscapedPath(), ex.method, ex.path)
		}
		for k, v := range ex.query {
			if got := r.URL.Query().Get(k); got != v {
				t.Errorf("exchange %d (%s %s): query %s=%q, want %q", next, ex.method, ex.path, k, got, v)
			}
		}
		var body map[string]any
		if raw, _ := io.ReadAll(r.Body); len(raw) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Errorf("exchange %d: body is not a JSON object: %v: %s", next, err, raw)
			}
		}
		for k, v := range ex.body {
			if got, ok := body[k]; !ok || !jsonEqual(got, v) {
				t.Errorf("exchange %d (%s %s): body %s=%v, want %v", next, ex.method, ex.path, k, got, v)
			}
		}
		if ex.check != nil {
			ex.check(t, r, body)
		}
		for k, v := range ex.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ex.status)
		_, _ = io.WriteString(w, ex.response)
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if next != len(exchanges) {
			t.Errorf("%d of %d recorded exchanges were served; the next was %s %s", next, len(exchanges), exchanges[next].method, exchanges[next].path)
		}
	})
	return srv
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
