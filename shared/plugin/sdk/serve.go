package sdk

import (
	goplugin "github.com/hashicorp/go-plugin"
)

// Serve runs c as a promotion-gate plugin and returns when the host stops it. Call it
// from main. Run by hand (without the host's handshake) it prints that it is a plugin
// and exits non-zero.
//
// Write logs to stderr: the host keeps a bounded tail of it and quotes it when the
// plugin fails. Stdout belongs to the handshake; do not write to it.
func Serve(c Checker) {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{PluginName: &checkerPlugin{Impl: c}},
		GRPCServer:      goplugin.DefaultGRPCServer,
	})
}
