// Package pluginv1 is version 1 of the gRPC protocol between promotion-gate and its
// plugins, generated from checker.proto by hack/plugin-proto.sh. Plugin authors use
// package plugin/sdk (Serve and Checker) rather than this package directly.
package pluginv1
