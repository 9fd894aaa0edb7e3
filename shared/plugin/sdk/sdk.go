// Package sdk is what a promotion-gate plugin is written with: implement Checker, call
// Serve from main. See docs/plugins.md.
//
// promotion-gate starts the plugin for a rule that declares it (policy.Plugin), after
// verifying the executable's SHA-256, and talks to it over gRPC with mutual TLS: the
// versioned service promotiongate.plugin.v1.Checker. The package is deliberately small
// so that a plugin links only go-plugin and gRPC, not the gate.
package sdk

import (
	"context"
	"errors"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pluginv1 "github.com/promotion-gate/promotion-gate/shared/plugin/proto/v1"
)

// ProtocolVersion is the plugin protocol version the host and plugins speak. It changes
// only with a breaking change of the gRPC service (a new proto package).
const ProtocolVersion = 1

// Handshake is what host and plugin check before they talk. The magic cookie is not a
// secret: it stops a person from running a plugin by hand by mistake, and stops the host
// from talking to an executable that is not a promotion-gate plugin.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "PROMOTION_GATE_PLUGIN",
	MagicCookieValue: "6f1f5e0c-checker-v1",
}

// PluginName is the name the checker is dispensed under in go-plugin's plugin set.
const PluginName = "checker"

// Checker is what a plugin implements: look at one image, say what is wrong with it.
type Checker interface {
	// Check returns the findings for the image; none means it passes. An error means
	// the plugin could not decide (e.g. the registry is unreachable); the host counts it
	// as a failed check, which denies in a protected environment.
	Check(ctx context.Context, req Request) ([]Finding, error)
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(ctx context.Context, req Request) ([]Finding, error)

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context, req Request) ([]Finding, error) { return f(ctx, req) }

// Request is one image to check for one rule.
type Request struct {
	// Image is the normalised reference, e.g. "ghcr.io/example/app:v1.2.3@sha256:…".
	Image string
	// Digest is "sha256:<hex>" when the reference carries one; empty for a tag, which the
	// plugin resolves at the registry itself if it needs the digest.
	Digest string
	// Environment is the classified environment, e.g. "prod"; empty when unclassified.
	Environment string
	// Protected is true when findings deny in this environment.
	Protected bool
	// Parameters are the plugin's parameters from the policy; never nil.
	Parameters map[string]string
	// PolicyRevision identifies the policy the check runs for.
	PolicyRevision string
	// Rule is the name of the rule that declares the plugin.
	Rule string
	// Plugin is the plugin's name in the policy.
	Plugin string
}

// Finding is one thing wrong with the image.
type Finding struct {
	// Message says in one line what is wrong.
	Message string
	// Fix says in one line what to do about it.
	Fix string
}

// checkerPlugin is the plugin side of the go-plugin glue: it serves Impl.
type checkerPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl Checker
}

func (p *checkerPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterCheckerServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient is the host's side, which this package does not play.
func (p *checkerPlugin) GRPCClient(context.Context, *goplugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("sdk: the checker client is the host's; use package plugin")
}

// server adapts a Checker to the generated gRPC service.
type server struct {
	pluginv1.UnimplementedCheckerServer
	impl Checker
}

func (s *server) Check(ctx context.Context, in *pluginv1.CheckRequest) (*pluginv1.CheckResponse, error) {
	params := in.GetParameters()
	if params == nil {
		params = map[string]string{}
	}
	findings, err := s.impl.Check(ctx, Request{
		Image:          in.GetImage(),
		Digest:         in.GetDigest(),
		Environment:    in.GetEnvironment(),
		Protected:      in.GetProtected(),
		Parameters:     params,
		PolicyRevision: in.GetPolicyRevision(),
		Rule:           in.GetRule(),
		Plugin:         in.GetPlugin(),
	})
	if err != nil {
		return nil, err
	}
	out := &pluginv1.CheckResponse{Findings: make([]*pluginv1.Finding, 0, len(findings))}
	for _, f := range findings {
		out.Findings = append(out.Findings, &pluginv1.Finding{Message: f.Message, Fix: f.Fix})
	}
	return out, nil
}
