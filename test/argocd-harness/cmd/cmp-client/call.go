package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/argoproj/argo-cd/v2/common"
	"github.com/argoproj/argo-cd/v2/util/app/discovery"
	"github.com/argoproj/argo-cd/v2/util/cmp"
	argoio "github.com/argoproj/argo-cd/v2/util/io"
	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/retry"
	"google.golang.org/protobuf/types/known/emptypb"
)

// run connects to the named plugin as the repo-server does and performs one call.
func run(ctx context.Context, o options, env []string, stdout io.Writer) error {
	root, app, err := absPaths(o)
	if err != nil {
		return err
	}
	// DetectConfigManagementPlugin reads the socket directory from the same variable the
	// repo-server does.
	if err := os.Setenv(common.EnvPluginSockFilePath, o.pluginDir); err != nil {
		return usageError{err}
	}
	conn, client, err := discovery.DetectConfigManagementPlugin(ctx, app, root, o.plugin, env, nil)
	if err != nil {
		return err
	}
	defer argoio.Close(conn)

	switch o.op {
	case "check":
		cfg, err := client.CheckPluginConfiguration(ctx, &emptypb.Empty{})
		if err != nil {
			return fmt.Errorf("error calling cmp-server checkPluginConfiguration: %w", err)
		}
		return writeJSON(stdout, cfg)

	case "parameters":
		stream, err := client.GetParametersAnnouncement(ctx, grpc_retry.Disable())
		if err != nil {
			return fmt.Errorf("error getting parametersAnnouncementStream: %w", err)
		}
		if err := cmp.SendRepoStream(stream.Context(), app, root, stream, env, nil); err != nil {
			return fmt.Errorf("error sending file to cmp-server: %w", err)
		}
		announcement, err := stream.CloseAndRecv()
		if err != nil {
			return fmt.Errorf("failed to get parameter announcement: %w", err)
		}
		return writeJSON(stdout, announcement.ParameterAnnouncements)

	case "generate":
		// The repo-server checks the configuration before every generate.
		if _, err := client.CheckPluginConfiguration(ctx, &emptypb.Empty{}); err != nil {
			return fmt.Errorf("error calling cmp-server checkPluginConfiguration: %w", err)
		}
		stream, err := client.GenerateManifest(ctx, grpc_retry.Disable())
		if err != nil {
			return fmt.Errorf("error getting generateManifestStream: %w", err)
		}
		if err := cmp.SendRepoStream(stream.Context(), app, root, stream, env, nil); err != nil {
			return fmt.Errorf("error sending file to cmp-server: %w", err)
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			// This is the error the repo-server wraps into the Application's ComparisonError.
			return err
		}
		if o.output == "json" {
			return writeJSON(stdout, resp.Manifests)
		}
		for i, m := range resp.Manifests {
			if i > 0 {
				if _, err := io.WriteString(stdout, "---\n"); err != nil {
					return err
				}
			}
			if _, err := fmt.Fprintln(stdout, m); err != nil {
				return err
			}
		}
		return nil
	}
	return usageError{fmt.Errorf("-op %q: want generate, parameters or check", o.op)}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
