package forge

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Retry bounds how rate limits and server errors are retried.
type Retry struct {
	// Attempts is how many times a request is sent at most; zero means 5.
	Attempts int
	// Wait is the first backoff; it doubles each time, with jitter. Zero means 1s.
	Wait time.Duration
	// MaxWait caps one wait, including a rate limit's announced reset; zero means
	// 1m. A reset further away than that is not waited for: the request fails and
	// the caller tries again later.
	MaxWait time.Duration
}

func (r Retry) attempts() int {
	if r.Attempts > 0 {
		return r.Attempts
	}
	return 5
}

func (r Retry) wait() time.Duration {
	if r.Wait > 0 {
		return r.Wait
	}
	return time.Second
}

func (r Retry) maxWait() time.Duration {
	if r.MaxWait > 0 {
		return r.MaxWait
	}
	return time.Minute
}

// httpClient builds the HTTP client of every provider: the extra CA, the user agent,
// and retries.
func httpClient(opts Options) (*http.Client, error) {
	base := opts.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if len(opts.CA) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(opts.CA) {
				return nil, errors.New("forge CA bundle holds no PEM certificate: give the PEM of the CA that signed the forge's certificate")
			}
			t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		base = t
	}
	return &http.Client{
		Transport: &retryTransport{next: base, retry: opts.Retry, userAgent: opts.UserAgent, sleep: sleepCtx},
		Timeout:   2 * time.Minute,
	}, nil
}

// retryTransport retries what a forge asks to be retried: 429, a 403 that is a rate
// limit (GitHub answers rate limits with 403 and X-RateLimit-Remaining: 0 or
// Retry-After), 502, 503, 504 and 500, and connection errors. It waits for
// Retry-After or X-RateLimit-Reset when the forge names it, else backs off
// exponentially with jitter.
type retryTransport struct {
	next      http.RoundTripper
	retry     Retry
	userAgent string
	sleep     func(req *http.Request, d time.Duration) error
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if t.userAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", t.userAgent)
	}
	wait := t.retry.wait()
	for attempt := 1; ; attempt++ {
		if attempt > 1 && req.Body != nil && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("replay request body: %w", err)
			}
			req.Body = body
		}
		resp, err := t.next.RoundTrip(req)
		last := attempt >= t.retry.attempts() || (req.Body != nil && req.GetBody == nil)
		if err != nil {
			var cert *tls.CertificateVerificationError
			if last || req.Context().Err() != nil || errors.As(err, &cert) {
				return nil, err // an untrusted certificate stays untrusted: no retry
			}
		} else {
			d, retry := retryAfter(resp, time.Now())
			if !retry || last {
				return resp, nil
			}
			if d > t.retry.maxWait() {
				return resp, nil // the limit resets too far away: say so now
			}
			if d > 0 {
				wait = d
			}
			resp.Body.Close()
		}
		d := min(wait, t.retry.maxWait())
		d += time.Duration(rand.Int64N(int64(d)/4 + 1))
		if err := t.sleep(req, d); err != nil {
			return nil, err
		}
		wait *= 2
	}
}

// retryAfter says whether a response is to be retried and how long the forge asked
// to wait (zero: back off as usual).
func retryAfter(resp *http.Response, now time.Time) (time.Duration, bool) {
	h := resp.Header
	rateLimited := resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode == http.StatusForbidden && (h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0"))
	switch {
	case rateLimited:
	case resp.StatusCode == http.StatusInternalServerError, resp.StatusCode == http.StatusBadGateway,
		resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if s := h.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil {
			return time.Duration(secs) * time.Second, true
		}
		if at, err := http.ParseTime(s); err == nil {
			return max(at.Sub(now), 0), true
		}
	}
	if rateLimited {
		// GitHub's X-RateLimit-Reset and GitLab's RateLimit-Reset are Unix seconds.
		for _, k := range []string{"X-RateLimit-Reset", "RateLimit-Reset"} {
			if secs, err := strconv.ParseInt(h.Get(k), 10, 64); err == nil && secs > 0 {
				return max(time.Unix(secs, 0).Sub(now), 0) + time.Second, true
			}
		}
	}
	return 0, true
}

func sleepCtx(req *http.Request, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-req.Context().Done():
		return req.Context().Err()
	}
}
