package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultIdentity(t *testing.T) {
	tokenNS := filepath.Join(t.TempDir(), "namespace")
	if err := os.WriteFile(tokenNS, []byte("gates\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	tests := []struct {
		name   string
		env    map[string]string
		nsFile string
		want   string
	}{
		{"service account and runtime namespace", map[string]string{"RUNTIME_SERVICE_ACCOUNT": "flux-gate", "RUNTIME_NAMESPACE": "flux-system"}, tokenNS,
			"system:serviceaccount:flux-system:flux-gate"},
		{"namespace from the token", map[string]string{"RUNTIME_SERVICE_ACCOUNT": "gate-sa"}, tokenNS, "system:serviceaccount:gates:gate-sa"},
		{"no service account name", map[string]string{"RUNTIME_NAMESPACE": "flux-system"}, tokenNS, "flux-gate"},
		{"no namespace anywhere", map[string]string{"RUNTIME_SERVICE_ACCOUNT": "gate-sa"}, missing, "flux-gate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultIdentity(func(k string) string { return tt.env[k] }, tt.nsFile); got != tt.want {
				t.Errorf("defaultIdentity = %q, want %q", got, tt.want)
			}
		})
	}
}
