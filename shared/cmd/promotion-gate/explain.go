package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

func newExplainCommand() *cobra.Command {
	var (
		flags    targetFlags
		doRender bool
	)
	cmd := &cobra.Command{
		Use:   "explain PATH --policy DIR|FILE",
		Short: "Show how a path is classified and which rules and exemptions apply to it",
		Long: `explain answers "why did the gate treat this path as prod?": it prints the environment a
path is classified into, every match that led there, and the rules and exemptions that
apply. A render counts as the strictest environment of its path, the files it reads and
the namespaces its objects land in, so explain renders the path (as check does) to name
those; with --render=false it classifies by the path alone and says what it cannot know.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := policy.Load(flags.policyPath)
			if err != nil {
				return &exitError{code: exitConfig, err: fmt.Errorf("load policy %s: %w", flags.policyPath, err)}
			}
			if err := flags.limits(); err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			req := flags.request(args[0], set, nil)
			req.RepoRoot = check.RepoRoot(req)
			q, err := check.Query(req)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			cls, err := check.Classify(set, q, flags.valuesFiles)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			effect := "not rendered (--render=false): the files a render reads and the namespaces its objects land in " +
				"can make it stricter, and are not known without rendering"
			if doRender {
				ctx, cancel := context.WithTimeout(cmd.Context(), flags.timeout)
				defer cancel()
				req.Render.Path, req.Render.RepoRoot = req.Path, req.RepoRoot
				if res, err := render.Render(ctx, req.Render); err != nil {
					effect = fmt.Sprintf("the render failed (%v): the files it reads and the namespaces it renders into are not known; "+
						"the environment above comes from the request alone", err)
				} else {
					var because []string
					cls, because = check.ByEffect(set, cls, res)
					effect = fmt.Sprintf("%d objects from %d files", len(res.Documents), len(render.Files(res.Inputs)))
					if len(because) == 0 {
						effect += "; nothing they read or render into is stricter"
					} else {
						effect += fmt.Sprintf("; counted as %s by what the render reads or renders into (the last %d matches above)", cls.Environment, len(because))
					}
				}
			}
			return writeExplanation(cmd.OutOrStdout(), set, q, cls, effect)
		},
	}
	flags.register(cmd)
	cmd.Flags().BoolVar(&doRender, "render", true, "render the path to classify it by the files it reads and the namespaces it renders into")
	return cmd
}

func writeExplanation(w io.Writer, set *policy.Set, q policy.Query, cls policy.Classification, effect string) error {
	var b strings.Builder
	env := cls.Environment
	if env == "" {
		env = "(none: no environment matches)"
	}
	fmt.Fprintf(&b, "path:        %s\n", q.Path)
	fmt.Fprintf(&b, "environment: %s\n", env)
	fmt.Fprintf(&b, "protected:   %t\n", cls.Protected)
	fmt.Fprintf(&b, "policy:      %s (%s)\n", set.Revision, strings.Join(set.Sources, ", "))
	if len(cls.MatchedBy) > 0 {
		b.WriteString("matched by:\n")
		for _, m := range cls.MatchedBy {
			fmt.Fprintf(&b, "  - %s\n", m)
		}
	}
	fmt.Fprintf(&b, "render:      %s\n", effect)
	rules := set.RulesFor(cls.Environment)
	if len(rules) == 0 {
		b.WriteString("rules:       none apply\n")
	} else {
		b.WriteString("rules:\n")
	}
	for _, r := range rules {
		fmt.Fprintf(&b, "  - %s (%s)%s\n", r.Name, r.Enforcement, describeRule(r))
		for _, e := range set.ExemptionsFor(r.Name) {
			fmt.Fprintf(&b, "      exemption for %s, owner %s, expires %s: %s\n",
				strings.Join(e.Images, ", "), e.Owner, orNever(e.Expires), e.Reason)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func describeRule(r policy.Rule) string {
	var parts []string
	if r.RequireDigest {
		parts = append(parts, "requires a digest")
	}
	if len(r.DenyTags) > 0 {
		parts = append(parts, "denies tags "+strings.Join(r.DenyTags, ", "))
	}
	if len(r.AllowedRegistries) > 0 {
		parts = append(parts, "allows registries "+strings.Join(r.AllowedRegistries, ", "))
	}
	if r.TagPattern != "" {
		parts = append(parts, "tags must match "+r.TagPattern)
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

func orNever(s string) string {
	if s == "" {
		return "never"
	}
	return s
}
