package main

import (
	"os"
	"strings"
)

// serviceAccountNamespaceFile is where Kubernetes mounts the namespace of the pod's
// service account token.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// defaultIdentity is who the gate acts as in its records when --identity is not
// given: the pod's service account, as Kubernetes names it in audit logs
// (system:serviceaccount:<namespace>:<name>), so that a record and the API server's
// audit trail name the same actor. The chart passes the name through the downward API
// ($RUNTIME_SERVICE_ACCOUNT, from spec.serviceAccountName); the namespace is
// $RUNTIME_NAMESPACE, or the token's namespace. Without a name it is the controller's.
func defaultIdentity(getenv func(string) string, namespaceFile string) string {
	sa := strings.TrimSpace(getenv("RUNTIME_SERVICE_ACCOUNT"))
	if sa == "" {
		return "flux-gate"
	}
	ns := strings.TrimSpace(getenv("RUNTIME_NAMESPACE"))
	if ns == "" {
		if b, err := os.ReadFile(namespaceFile); err == nil {
			ns = strings.TrimSpace(string(b))
		}
	}
	if ns == "" {
		return "flux-gate"
	}
	return "system:serviceaccount:" + ns + ":" + sa
}
