// Package charts tests the Helm charts in charts/: it renders them with the Helm SDK for
// their default values and every charts/*/ci/*.yaml, lints them, compares the output with
// golden files, and applies it to a real kube-apiserver (envtest) to prove the objects are
// valid, the RBAC lets flux-gate do its work and nothing more, and the admission policy
// closes the bypass of the Argo CD plugin.
package charts
