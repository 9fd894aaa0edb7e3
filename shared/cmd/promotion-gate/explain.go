package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

func newExplainCommand() *cobra.Command {
	var flags targetFlags
	cmd := &cobra.Command{
		Use:   "explain PATH --policy DIR|FILE",
		Short: "Show how a path is classified and which rules and exemptions apply to it",
		Long: `explain answers "why did the gate treat this path as prod?" without rendering
anything: it prints the environment a path is classified into, every match that led
there, and the rules and exemptions that apply.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := policy.Load(flags.policyPath)
			if err != nil {
				return &exitError{code: exitConfig, err: fmt.Errorf("load policy %s: %w", flags.policyPath, err)}
			}
			req := flags.request(args[0], set, nil)
			q, err := check.Query(req)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			cls, err := check.Classify(set, q, flags.valuesFiles)
			if err != nil {
				return &exitError{code: exitConfig, err: err}
			}
			return writeExplanation(cmd.OutOrStdout(), set, q, cls)
		},
	}
	flags.register(cmd)
	return cmd
}

func writeExplanation(w io.Writer, set *policy.Set, q policy.Query, cls policy.Classification) error {
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
