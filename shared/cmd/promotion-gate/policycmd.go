package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

func newPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work with PromotionPolicy documents",
	}
	var strict bool
	validate := &cobra.Command{
		Use:   "validate DIR|FILE",
		Short: "Validate policy documents and print the merged policy's revision",
		Long: `validate loads a policy file or a directory of *.yaml policy files exactly as the
gate does (strict fields, merge, globs, regular expressions, expiry dates) and prints
a summary, then a warning for each way the valid policy protects less than it seems to:
no protected environment, a protected environment whose match is empty, a rule whose
environments no match reaches, an expired exemption (the gate ignores it). flux-gate and
the Argo CD sidecar log the same warnings when they load the policy.

With --strict a warning exits 2, as an invalid policy does: use it in CI.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := policy.Load(args[0])
			if err != nil {
				return &exitError{code: exitConfig, err: fmt.Errorf("load policy %s: %w", args[0], err)}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "policy %s is valid: %d environments, %d rules, %d exemptions\n",
				args[0], len(set.Environments), len(set.Rules), len(set.Exemptions))
			fmt.Fprintf(out, "revision: %s\n", set.Revision)
			warnings := set.Warnings(time.Now())
			for _, w := range warnings {
				fmt.Fprintln(out, w)
			}
			if strict && len(warnings) > 0 {
				return &exitError{code: exitConfig, err: fmt.Errorf("policy %s: %s with --strict; fix the policy, or drop --strict", args[0], plural(len(warnings), "warning"))}
			}
			return nil
		},
	}
	validate.Flags().BoolVar(&strict, "strict", false, "exit 2 when the policy has a warning (for CI)")
	cmd.AddCommand(validate)
	return cmd
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
