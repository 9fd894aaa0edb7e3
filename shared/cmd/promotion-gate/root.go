package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "promotion-gate",
		Short: "Check GitOps promotions against the platform's promotion policy",
		Long: `promotion-gate renders application paths (kustomize, Helm or plain YAML), classifies
them into environments (prod, staging, ...) and checks every container image against the
platform's PromotionPolicy: digest pinning, denied tags, approved registries, tag patterns.

It is the same check that flux-gate runs before promoting a Flux image-automation commit
and that the Argo CD plugin runs before handing manifests to Argo CD, so a pull request
that passes here passes there.

Exit codes: 0 allowed (or allowed with warnings), 1 denied, 2 usage or configuration error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newCheckCommand(), newExplainCommand(), newPolicyCommand(), newVersionCommand())
	root.AddCommand(newHistoryCommand()) // promotion records (history.go)
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of promotion-gate",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "promotion-gate", buildVersion())
			return err
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
