// Package plugin runs external checks as hashicorp/go-plugin processes: the Runner is
// the host side of the plugin protocol and implements evaluate.PluginRunner. Plugins
// are written with package plugin/sdk.
package plugin

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginv1 "github.com/promotion-gate/promotion-gate/shared/plugin/proto/v1"
)

// checkerClient is the host side of the go-plugin glue: it hands out a gRPC client of
// the Checker service. The plugin side is sdk.Serve.
type checkerClient struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (checkerClient) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return nil // the host serves nothing
}

func (checkerClient) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pluginv1.NewCheckerClient(c), nil
}
