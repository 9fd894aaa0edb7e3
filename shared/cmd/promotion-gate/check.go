package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
	"github.com/promotion-gate/promotion-gate/shared/report"
)

// targetFlags are the flags that say what is checked and how it is classified; check and
// explain share them.
type targetFlags struct {
	policyPath  string
	env         string
	repoRoot    string
	branch      string
	app         string
	namespace   string
	project     string
	valuesFiles []string
	releaseName string
	kubeVersion string
	// maxMemory is the render memory budget as given; memoryBytes is it parsed (limits).
	maxMemory   string
	memoryBytes int64
	timeout     time.Duration
	cacheDir    string
	cacheSize   string
}

func (f *targetFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.policyPath, "policy", "", "policy file, or directory of *.yaml policy files (required)")
	fl.StringVar(&f.env, "env", "", "environment to check against; it can only make the classification stricter")
	fl.StringVar(&f.repoRoot, "repo-root", "", "repository root: confines rendering and is the base of the paths the policy matches (default: each PATH)")
	fl.StringVar(&f.branch, "branch", "", "Git branch the change targets, matched against environments' branches")
	fl.StringVar(&f.app, "app", "", "Argo CD application name, matched against environments' applications")
	fl.StringVar(&f.project, "project", "", "Argo CD project (AppProject), matched against environments' projects")
	fl.StringVar(&f.namespace, "namespace", "", "destination namespace: matched against environments' namespaces, and the Helm release namespace")
	fl.StringArrayVarP(&f.valuesFiles, "values", "f", nil, "Helm values file, relative to the chart (repeatable, applied in order)")
	fl.StringVar(&f.releaseName, "release-name", "", "Helm release name (default \"release\")")
	fl.StringVar(&f.kubeVersion, "kube-version", "", "Kubernetes version for Helm's .Capabilities (e.g. 1.34.0)")
	fl.StringVar(&f.maxMemory, "max-memory", "512Mi", "memory budget of each render (a quantity such as 512Mi or 2Gi); a render over it is refused")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Minute, "time limit of each PATH's render and check")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "private directory where renders are kept, keyed by everything they read; an unchanged PATH is then not rendered again (off by default; keep it between CI runs with your CI's cache)")
	fl.StringVar(&f.cacheSize, "cache-size", "1Gi", "size bound of --cache-dir; least recently used renders are evicted")
	_ = cmd.MarkFlagRequired("policy")
}

// renderCache opens --cache-dir; a cache that cannot be used is a warning on stderr,
// and the check renders without it.
func (f *targetFlags) renderCache(stderr io.Writer) *render.Cache {
	if f.cacheDir == "" {
		return nil
	}
	warn := func(err error) { fmt.Fprintf(stderr, "promotion-gate: warning: %v\n", err) }
	q, err := resource.ParseQuantity(f.cacheSize)
	if err != nil || q.Value() <= 0 {
		warn(fmt.Errorf("--cache-size %q: want a size such as 1Gi; rendering without the cache", f.cacheSize))
		return nil
	}
	cache, err := render.NewCache(f.cacheDir, q.Value(), warn)
	if err != nil {
		warn(fmt.Errorf("rendering without the cache: %w", err))
		return nil
	}
	return cache
}

// limits parses the flags that bound each render.
func (f *targetFlags) limits() error {
	q, err := resource.ParseQuantity(f.maxMemory)
	if err != nil || q.Value() < 64<<20 {
		return fmt.Errorf("--max-memory %q: want a quantity of at least 64Mi, such as 512Mi or 2Gi", f.maxMemory)
	}
	f.memoryBytes = q.Value()
	if f.timeout <= 0 {
		return fmt.Errorf("--timeout %s: want a positive duration such as 2m", f.timeout)
	}
	return nil
}

func (f *targetFlags) request(path string, set *policy.Set, policyErr error) check.Request {
	req := check.Request{
		Path:      path,
		RepoRoot:  f.repoRoot,
		Policy:    set,
		PolicyErr: policyErr,
		Query: policy.Query{
			Branch:      f.branch,
			Application: f.app,
			Namespace:   f.namespace,
			Project:     f.project,
			Requested:   f.env,
		},
	}
	req.Render.ValuesFiles = f.valuesFiles
	req.Render.ReleaseName = f.releaseName
	req.Render.Namespace = f.namespace
	req.Render.KubeVersion = f.kubeVersion
	req.Render.MaxMemory = f.memoryBytes
	return req
}

func newCheckCommand() *cobra.Command {
	var (
		flags  targetFlags
		sc     supplyChainFlags
		status statusFlags // --status: the verdict as a commit status (status.go)
		output string
	)
	cmd := &cobra.Command{
		Use:   "check PATH... --policy DIR|FILE",
		Short: "Render application paths and check their images against the policy",
		Long: `check renders each PATH (a kustomization, a Helm chart, or a directory of YAML files),
classifies it into an environment, and checks every container image against the rules
for that environment.

A protected environment fails closed: a policy that cannot be read, a path that cannot
be rendered, or an image that breaks a deny rule gives a Denied verdict.

Rules with signatures or attestations read the registry, with the credentials of the
docker config.json ($DOCKER_CONFIG); an unreachable registry fails closed too. Keys and
trusted roots the policy names are read from --trust-dir. Rules with changeScope compare
each PATH with the --base revision and name every changed field that is not an image.`,
		Example: `  # the policy-dry-run-prod step of a promotion pipeline
  promotion-gate check apps/payments-api/overlays/prod --policy policy/

  # a shared Helm chart with the prod values, as a PR comment
  promotion-gate check charts/payments-api -f values-prod.yaml --policy policy/ -o markdown

  # a promotion pull request: signatures checked, and only images may change
  promotion-gate check apps/payments-api/overlays/prod --policy policy/ --trust-dir keys/ --base origin/main`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			// The first render's worker starts while the policy and keys are read; with
			// a render cache, whose hit needs no worker, only when the render needs it.
			if flags.cacheDir == "" {
				check.PrestartRender()
			}
			format, err := report.ParseFormat(output)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			if err := flags.limits(); err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			poster, err := status.poster(flags.env)
			if err == nil && poster != nil {
				err = poster.Pending(cmd.Context())
			}
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			set, policyErr := policy.Load(flags.policyPath)
			if policyErr != nil {
				policyErr = fmt.Errorf("load policy %s: %w", flags.policyPath, policyErr)
			}
			verifiers, closeVerifiers, err := sc.verifiers(flags.policyPath)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			defer closeVerifiers()
			base := bases{rev: sc.base}
			defer base.cleanup()
			cache := flags.renderCache(cmd.ErrOrStderr())

			code := exitAllowed
			var firstErr error
			targets := make([]report.Target, 0, len(paths))
			for _, p := range paths {
				req := flags.request(p, set, policyErr)
				req.Verifiers = verifiers
				req.Render.Cache = cache
				if sc.base != "" {
					if req.BaseRoot, err = base.root(check.RepoRoot(req)); err != nil {
						return &exitError{code: exitConfig, err: err}
					}
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), flags.timeout)
				out := check.Run(ctx, req)
				cancel()
				targets = append(targets, report.Target{Path: p, Result: out.Result})
				switch {
				case out.Err != nil:
					code = exitConfig
					if firstErr == nil {
						firstErr = out.Err
					}
				case out.Result.Verdict == evaluate.Denied && code == exitAllowed:
					code = exitDenied
				}
			}
			if err := report.Write(cmd.OutOrStdout(), format, targets); err != nil {
				return &exitError{code: exitConfig, err: fmt.Errorf("write report: %w", err)}
			}
			if err := postStatus(cmd.Context(), poster, targets); err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			if code != exitAllowed {
				return &exitError{code: code, err: firstErr}
			}
			return nil
		},
	}
	flags.register(cmd)
	sc.register(cmd)
	status.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "report format: text, json, markdown or sarif")
	return cmd
}
