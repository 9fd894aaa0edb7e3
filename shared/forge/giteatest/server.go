// Package giteatest runs a real Gitea server for tests and the demo: the binary built
// from the Go module proxy (make gitea, cached by version), on a free loopback port,
// in a temporary directory, with SQLite, no SSH, no mail and no cron. It creates an
// administrator, users with tokens, repositories and branch protection through the
// server's own API, so the tests see exactly what a person on a forge sees.
package giteatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"code.gitea.io/sdk/gitea"
)

// Version is the Gitea release the tests run.
const Version = "v1.27.3"

// Password is every test user's password: the server is on loopback and thrown away.
const Password = "promotion-gate-test-1"

// Admin is the administrator's login.
const Admin = "gitea-admin"

// Locate finds the Gitea binary and the module directory that holds its templates and
// translations (the build embeds no assets). PROMOTION_GATE_GITEA_BIN and
// PROMOTION_GATE_GITEA_ROOT name them; otherwise the binary is in the cache make gitea
// fills, and the module directory is in the Go module cache.
func Locate() (bin, root string, err error) {
	bin = os.Getenv("PROMOTION_GATE_GITEA_BIN")
	if bin == "" {
		cache := os.Getenv("PROMOTION_GATE_CACHE")
		if cache == "" {
			base, cerr := os.UserCacheDir()
			if cerr != nil {
				return "", "", fmt.Errorf("find the cache directory: %w", cerr)
			}
			cache = filepath.Join(base, "promotion-gate")
		}
		bin = filepath.Join(cache, "gitea", Version, "gitea")
	}
	if _, err := os.Stat(bin); err != nil {
		return "", "", fmt.Errorf("no Gitea binary at %s: run `make gitea` (it builds Gitea %s once, about 3 minutes) or set PROMOTION_GATE_GITEA_BIN", bin, Version)
	}
	root = os.Getenv("PROMOTION_GATE_GITEA_ROOT")
	if root == "" {
		out, gerr := exec.Command("go", "env", "GOMODCACHE").Output()
		if gerr != nil {
			return "", "", fmt.Errorf("find the Go module cache for Gitea's templates: %w (or set PROMOTION_GATE_GITEA_ROOT)", gerr)
		}
		root = filepath.Join(strings.TrimSpace(string(out)), "code.gitea.io", "gitea@"+Version)
	}
	if _, err := os.Stat(filepath.Join(root, "options", "locale")); err != nil {
		return "", "", fmt.Errorf("no Gitea templates and translations in %s: run `make gitea` (it downloads the module) or set PROMOTION_GATE_GITEA_ROOT", root)
	}
	return bin, root, nil
}

// Server is a running Gitea.
type Server struct {
	// URL is the server's address, http(s)://127.0.0.1:PORT, without a trailing slash.
	URL string
	// AdminToken is the administrator's API token.
	AdminToken string
	// CA is, for a server started with TLS, the PEM of the CA that signed its
	// certificate; nil over plain HTTP.
	CA []byte
	// HTTPClient trusts the server's CA.
	HTTPClient *http.Client

	bin, dir string
	cmd      *exec.Cmd
	log      *bytes.Buffer
	mu       sync.Mutex
	tokens   map[string]string
}

// Options change how the server runs.
type Options struct {
	// TLS serves HTTPS with a certificate from a CA made for the server (Server.CA).
	TLS bool
}

// Start runs a Gitea server over plain HTTP in dir (which must exist and be empty)
// until Close.
func Start(ctx context.Context, dir string) (*Server, error) { return StartWith(ctx, dir, Options{}) }

// StartWith runs a Gitea server with opts in dir until Close.
func StartWith(ctx context.Context, dir string, opts Options) (*Server, error) {
	bin, root, err := Locate()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	scheme, tlsINI := "http", ""
	s := &Server{bin: bin, dir: dir, log: &bytes.Buffer{}, tokens: map[string]string{}}
	if opts.TLS {
		ca, cert, key, err := serveTLS(dir)
		if err != nil {
			return nil, err
		}
		scheme, s.CA = "https", ca
		tlsINI = fmt.Sprintf("PROTOCOL = https\nCERT_FILE = %s\nKEY_FILE = %s\n", cert, key)
	}
	s.URL = fmt.Sprintf("%s://127.0.0.1:%d", scheme, port)
	s.HTTPClient = clientTrusting(s.CA)
	if err := os.WriteFile(s.ini(), []byte(appINI(dir, root, s.URL, port, tlsINI)), 0o600); err != nil {
		return nil, err
	}
	if err := s.run(ctx, "migrate"); err != nil {
		return nil, err
	}
	if err := s.run(ctx, "admin", "user", "create", "--admin", "--username", Admin, "--password", Password,
		"--email", Admin+"@example.com", "--must-change-password=false"); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "web", "-c", s.ini())
	s.cmd.Dir = dir
	s.cmd.Env = s.env()
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start gitea web: %w", err)
	}
	if err := s.waitUp(ctx); err != nil {
		s.Close()
		return nil, err
	}
	tok, err := s.Token(ctx, Admin)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.AdminToken = tok
	return s, nil
}

// Close stops the server.
func (s *Server) Close() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Log is what the server wrote, for a failing test to show.
func (s *Server) Log() string { return s.log.String() }

func (s *Server) ini() string { return filepath.Join(s.dir, "app.ini") }

func (s *Server) env() []string {
	return append(os.Environ(), "GITEA_WORK_DIR="+s.dir, "HOME="+s.dir, "USER=root")
}

func (s *Server) run(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, s.bin, append(args, "-c", s.ini())...)
	cmd.Dir, cmd.Env = s.dir, s.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("gitea %s: %w: %s", strings.Join(args[:min(len(args), 3)], " "), err, out)
	}
	return nil
}

func (s *Server) waitUp(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/version", nil)
		if resp, err := s.HTTPClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if s.cmd.ProcessState != nil || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("gitea did not answer at %s: %s", s.URL, tail(s.log.String()))
}

func appINI(dir, root, rootURL string, port int, tlsINI string) string {
	return fmt.Sprintf(`APP_NAME = promotion-gate test forge
RUN_MODE = prod
RUN_USER = %[4]s
; CI runs as root; Gitea refuses that unless told it is on purpose.
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
WORK_PATH = %[1]s

[server]
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[3]d
ROOT_URL = %[5]s/
%[6]s; The build embeds no assets: templates and translations come from the module.
STATIC_ROOT_PATH = %[2]s
APP_DATA_PATH = %[1]s/data
OFFLINE_MODE = true
DISABLE_SSH = true
LFS_START_SERVER = false

[database]
DB_TYPE = sqlite3
PATH = %[1]s/gitea.db

[security]
INSTALL_LOCK = true
PASSWORD_HASH_ALGO = pbkdf2_hi

[repository]
ROOT = %[1]s/repositories

[log]
MODE = console
LEVEL = warn
ROOT_PATH = %[1]s/log

[cron]
ENABLED = false

[service]
DISABLE_REGISTRATION = true

[mailer]
ENABLED = false

[indexer]
REPO_INDEXER_ENABLED = false

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[queue]
TYPE = channel
`, dir, root, port, currentUser(), rootURL, tlsINI)
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "root"
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// errNoServer guards the helpers against a server that is not running.
var errNoServer = errors.New("gitea is not running")

// Client returns an API client acting as user (who must have a token, see Token).
func (s *Server) Client(ctx context.Context, user string) (*gitea.Client, error) {
	tok, err := s.Token(ctx, user)
	if err != nil {
		return nil, err
	}
	return gitea.NewClient(s.URL, gitea.SetToken(tok), gitea.SetContext(ctx), gitea.SetGiteaVersion(""), gitea.SetHTTPClient(s.HTTPClient))
}

// Token returns user's API token with every scope, creating it with the user's
// password the first time.
func (s *Server) Token(ctx context.Context, user string) (string, error) {
	if s.cmd == nil {
		return "", errNoServer
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok, ok := s.tokens[user]; ok {
		return tok, nil
	}
	c, err := gitea.NewClient(s.URL, gitea.SetBasicAuth(user, Password), gitea.SetContext(ctx), gitea.SetGiteaVersion(""), gitea.SetHTTPClient(s.HTTPClient))
	if err != nil {
		return "", err
	}
	tok, _, err := c.CreateAccessToken(gitea.CreateAccessTokenOption{Name: "test-" + user, Scopes: []gitea.AccessTokenScope{gitea.AccessTokenScopeAll}})
	if err != nil {
		return "", fmt.Errorf("create a token for %s: %w", user, err)
	}
	s.tokens[user] = tok.Token
	return tok.Token, nil
}

func ci() bool { return os.Getenv("CI") != "" }
