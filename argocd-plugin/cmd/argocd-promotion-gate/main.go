// Command argocd-promotion-gate is the promotion-gate Argo CD config management plugin.
// Argo CD's CMP server runs "argocd-promotion-gate generate" in the application
// directory; it renders the application, checks it against the promotion policy, and
// prints the manifests or refuses with a message the Argo CD UI shows.
package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/promotion-gate/promotion-gate/argocd-plugin/internal/cmp"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/report"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	check.ServeWorker()
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// gcPercent and memoryLimit are the garbage collector settings of a render unless the
// sidecar sets GOGC or GOMEMLIMIT. Go's defaults suit long-running servers; a render is
// one short process whose heap dies with it, and krusty allocates heavily. Collecting a
// quarter as often cuts a render's CPU time by about a fifth on the example and a quarter
// on 2,000 Deployments, for more memory; the soft limit caps that growth well under the
// sidecar's memory limit (figures in docs/benchmarks.md).
const (
	gcPercent   = 400
	memoryLimit = 192 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(gcPercent)
		debug.SetMemoryLimit(memoryLimit)
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	code := 0
	root := &cobra.Command{
		Use:           "argocd-promotion-gate",
		Short:         "Argo CD config management plugin that refuses to render mutable images into protected environments",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(generateCommand(&code), checkCommand(&code), versionCommand())
	root.Version = buildVersion()
	root.SetVersionTemplate("argocd-promotion-gate {{.Version}}\n")
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "argocd-promotion-gate: %v\n", err)
		return cmp.ExitInvalid
	}
	return code
}

func generateCommand(code *int) *cobra.Command {
	var sc sidecar
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Render the application in the current directory, check it, and print its manifests",
		Long: `generate is the plugin's generate command. It reads Argo CD's ARGOCD_APP_* variables and
the application's parameters (values-files, release-name, environment), renders the
current directory (kustomize, Helm chart or plain YAML), checks it against the policy in
--policy-dir, and prints the manifests, or refuses on stderr with a non-zero exit.

The sidecar settings come from flags in plugin.yaml or from the sidecar's environment
(` + cmp.EnvPolicyDir + `, ` + cmp.EnvTimeout + `, ` + cmp.EnvMaxOutputBytes + `,
` + cmp.EnvTrustDir + `, ` + cmp.EnvRegistryTimeout + `, ` + cmp.EnvVerifyCacheDir + `, ` + cmp.EnvMaxMemory + `, ` + cmp.EnvRenderCacheDir + `, ` + cmp.EnvRenderCacheSize + `, and ` + cmp.EnvDockerConfig + ` for registry
credentials), never from the application: ARGOCD_ENV_* variables are ignored.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			// The render worker starts while the policy and settings are read; with a
			// render cache, whose hit needs no worker (and a start that is not needed
			// would cost a warm render most of its time), only when the render needs it.
			if sc.settings.RenderCacheDir == "" {
				check.PrestartRender()
			}
			req, ok := sc.request(c.ErrOrStderr())
			if !ok {
				*code = cmp.ExitInvalid
				return nil
			}
			ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			*code = generate(ctx, req, c.OutOrStdout(), c.ErrOrStderr())
			return nil
		},
	}
	sc.register(cmd)
	return cmd
}

func checkCommand(code *int) *cobra.Command {
	var (
		sc     sidecar
		output string
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Run the check generate would run, and print the report instead of the manifests",
		Long: `check takes the same input as generate (the current directory, Argo CD's variables and the
application's parameters) and prints the promotion-gate report, in the formats of the
promotion-gate CLI. Exit codes as the CLI's: 0 allowed, 1 denied, 2 configuration error.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			format, err := report.ParseFormat(output)
			if err != nil {
				return err
			}
			req, ok := sc.request(c.ErrOrStderr())
			if !ok {
				*code = cmp.ExitInvalid
				return nil
			}
			app, out, err := cmp.Decide(c.Context(), req)
			if err != nil {
				fmt.Fprint(c.ErrOrStderr(), cmp.Invalid(app.SourcePath, err))
				*code = cmp.ExitInvalid
				return nil
			}
			if err := report.Write(c.OutOrStdout(), format, []report.Target{{Path: app.SourcePath, Result: out.Result}}); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
			switch {
			case out.Err != nil:
				*code = cmp.ExitInvalid
			case out.Result.Verdict == evaluate.Denied:
				*code = cmp.ExitRefused
			}
			return nil
		},
	}
	sc.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "report format: text, json, markdown or sarif")
	return cmd
}

// sidecar holds the sidecar settings of one command: the environment's, overridden by
// flags (which plugin.yaml may set).
type sidecar struct {
	settings cmp.Settings
	envErr   error
}

func (s *sidecar) register(cmd *cobra.Command) {
	s.settings, s.envErr = cmp.SettingsFromEnv(os.Getenv)
	if s.envErr != nil {
		s.settings = cmp.DefaultSettings()
	}
	f := cmd.Flags()
	f.StringVar(&s.settings.PolicyDir, "policy-dir", s.settings.PolicyDir, "directory of policy files ("+cmp.EnvPolicyDir+")")
	f.DurationVar(&s.settings.Timeout, "timeout", s.settings.Timeout, "time limit of one render and check ("+cmp.EnvTimeout+")")
	f.Int64Var(&s.settings.MaxOutputBytes, "max-output-bytes", s.settings.MaxOutputBytes, "largest manifest output handed to Argo CD ("+cmp.EnvMaxOutputBytes+")")
	f.StringVar(&s.settings.TrustDir, "trust-dir", s.settings.TrustDir, "key material the policy names: files relative to it, secretRef/configMapRef at <dir>/<name>/<key> ("+cmp.EnvTrustDir+")")
	f.DurationVar(&s.settings.RegistryTimeout, "registry-timeout", s.settings.RegistryTimeout, "time limit of each registry call of the signature and attestation checks ("+cmp.EnvRegistryTimeout+")")
	f.Int64Var(&s.settings.MaxMemory, "max-memory", s.settings.MaxMemory, "memory budget of one render in bytes ("+cmp.EnvMaxMemory+", a quantity or a share of "+cmp.EnvMemoryLimit+")")
	f.StringVar(&s.settings.RenderCacheDir, "render-cache-dir", s.settings.RenderCacheDir, "private directory where renders are kept between requests, keyed by everything they read ("+cmp.EnvRenderCacheDir+")")
	f.Int64Var(&s.settings.RenderCacheBytes, "render-cache-bytes", s.settings.RenderCacheBytes, "size bound of the render cache, least recently used entries evicted ("+cmp.EnvRenderCacheSize+")")
	f.StringVar(&s.settings.VerifyCacheDir, "verify-cache-dir", s.settings.VerifyCacheDir, "private directory where verified digests are remembered between renders ("+cmp.EnvVerifyCacheDir+")")
}

// request is the plugin request of this process, or false after writing why there is
// none: an invalid sidecar setting refuses every render rather than falling back.
func (s *sidecar) request(stderr io.Writer) (cmp.Request, bool) {
	if s.envErr != nil {
		fmt.Fprint(stderr, cmp.Invalid(os.Getenv(cmp.EnvAppSourcePath), fmt.Errorf("sidecar settings: %w", s.envErr)))
		return cmp.Request{}, false
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprint(stderr, cmp.Invalid(os.Getenv(cmp.EnvAppSourcePath), fmt.Errorf("find the application directory: %w", err)))
		return cmp.Request{}, false
	}
	return cmp.Request{Settings: s.settings, Dir: dir, Environ: os.Environ()}, true
}

// generate runs the check with the standard logger captured: renderer libraries log
// warnings through it, and on a refusal nothing but the refusal may reach stderr. On
// success the captured lines follow the plugin's own warnings.
func generate(ctx context.Context, req cmp.Request, stdout, stderr io.Writer) int {
	var logged bytes.Buffer
	log.SetOutput(&limitedWriter{w: &logged, n: 64 << 10})
	defer log.SetOutput(os.Stderr)

	code := cmp.Generate(ctx, req, stdout, stderr)
	if code == cmp.ExitRendered && logged.Len() > 0 {
		_, _ = stderr.Write(logged.Bytes())
	}
	return code
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if int64(len(q)) > l.n {
		q = q[:l.n]
	}
	n, err := l.w.Write(q)
	l.n -= int64(n)
	if err != nil {
		return n, err
	}
	return len(p), nil
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the plugin version",
		Args:  cobra.NoArgs,
		Run: func(c *cobra.Command, _ []string) {
			fmt.Fprintln(c.OutOrStdout(), "argocd-promotion-gate", buildVersion())
		},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
