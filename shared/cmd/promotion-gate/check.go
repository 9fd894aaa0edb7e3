package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
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
	_ = cmd.MarkFlagRequired("policy")
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
	return req
}

func newCheckCommand() *cobra.Command {
	var (
		flags  targetFlags
		sc     supplyChainFlags
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
			format, err := report.ParseFormat(output)
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

			code := exitAllowed
			var firstErr error
			targets := make([]report.Target, 0, len(paths))
			for _, p := range paths {
				req := flags.request(p, set, policyErr)
				req.Verifiers = verifiers
				if sc.base != "" {
					if req.BaseRoot, err = base.root(check.RepoRoot(req)); err != nil {
						return &exitError{code: exitConfig, err: err}
					}
				}
				out := check.Run(cmd.Context(), req)
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
			if code != exitAllowed {
				return &exitError{code: code, err: firstErr}
			}
			return nil
		},
	}
	flags.register(cmd)
	sc.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "report format: text, json, markdown or sarif")
	return cmd
}
