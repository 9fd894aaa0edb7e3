package plugin

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
)

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// reason is the stderr line that best explains a failure: a Go panic or fatal error,
// else the last line that is not a go-plugin debug log entry.
func (t *tail) reason() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(string(t.buf), "\n")
	last := ""
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return truncate(l, 300)
		}
		if l = logMessage(l); l != "" {
			last = l
		}
	}
	return truncate(last, 300)
}

// logMessage returns a stderr line as a person would want it quoted: an hclog JSON entry
// by its message (and error), nothing for its chatter below warning level.
func logMessage(line string) string {
	if !strings.HasPrefix(line, "{") {
		return line
	}
	var e struct {
		Level   string `json:"@level"`
		Message string `json:"@message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal([]byte(line), &e) != nil || e.Level == "" {
		return line
	}
	switch e.Level {
	case "trace", "debug", "info":
		return ""
	}
	if e.Error != "" {
		return e.Message + ": " + e.Error
	}
	return e.Message
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// limited passes at most n bytes to w, then drops the rest.
type limited struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (l *limited) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	_, _ = l.w.Write(q)
	return len(p), nil
}
