// Command argocd-cmp-server is Argo CD's config-management-plugin server, built unchanged
// from the argo-cd module so that the end-to-end tests drive the same sidecar that
// Argo CD admins run.
package main

import (
	"os"

	"github.com/argoproj/argo-cd/v2/cmd/argocd-cmp-server/commands"
)

func main() {
	if err := commands.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
