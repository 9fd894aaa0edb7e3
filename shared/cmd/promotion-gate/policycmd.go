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
	cmd.AddCommand(&cobra.Command{
		Use:   "validate DIR|FILE",
		Short: "Validate policy documents and print the merged policy's revision",
		Long: `validate loads a policy file or a directory of *.yaml policy files exactly as the
gate does (strict fields, merge, globs, regular expressions, expiry dates) and prints
a summary. Expired exemptions are listed: the gate ignores them.`,
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
			now := time.Now()
			for _, e := range set.Exemptions {
				if e.Expired(now) {
					fmt.Fprintf(out, "warning: exemption for rule %s (owner %s) expired on %s and is ignored\n", e.Rule, e.Owner, e.Expires)
				}
			}
			return nil
		},
	})
	return cmd
}
