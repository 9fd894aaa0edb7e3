package cmp

import (
	"fmt"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// minMemory is the smallest render budget: a Go process that renders anything needs
// some tens of MiB.
const minMemory = 64 << 20

// Sidecar settings: environment variables the platform team sets on the sidecar
// container. None of them carries the ARGOCD_ENV_ or PARAM_ prefix, so no application can
// set them through Argo CD.
const (
	EnvPolicyDir      = "PROMOTION_GATE_POLICY_DIR"
	EnvTimeout        = "PROMOTION_GATE_TIMEOUT"
	EnvMaxOutputBytes = "PROMOTION_GATE_MAX_OUTPUT_BYTES"
	// EnvTrustDir is where projected Secrets and ConfigMaps with keys and trusted roots
	// are mounted: a policy's secretRef/configMapRef reads <dir>/<name>/<key>.
	EnvTrustDir = "PROMOTION_GATE_TRUST_DIR"
	// EnvRegistryTimeout bounds each registry call of the signature checks.
	EnvRegistryTimeout = "PROMOTION_GATE_REGISTRY_TIMEOUT"
	// EnvVerifyCacheDir is a private directory where verified digests are remembered
	// between renders (each render is its own process).
	EnvVerifyCacheDir = "PROMOTION_GATE_VERIFY_CACHE_DIR"
	// EnvMaxMemory is the memory budget of one render: a quantity such as 512Mi, or a
	// percentage such as 50% of EnvMemoryLimit.
	EnvMaxMemory = "PROMOTION_GATE_MAX_MEMORY"
	// EnvMemoryLimit is the sidecar container's memory limit in bytes; the chart sets it
	// from the container's own limit through the downward API.
	EnvMemoryLimit = "PROMOTION_GATE_MEMORY_LIMIT"
	// EnvRenderCacheDir is a private directory where renders are kept between requests,
	// keyed by their inputs; EnvRenderCacheSize bounds it (a quantity such as 1Gi).
	EnvRenderCacheDir  = "PROMOTION_GATE_RENDER_CACHE_DIR"
	EnvRenderCacheSize = "PROMOTION_GATE_RENDER_CACHE_SIZE"
	// EnvDockerConfig is the standard variable naming the directory of the docker
	// config.json with registry credentials (a mounted pull secret).
	EnvDockerConfig = "DOCKER_CONFIG"

	// DefaultPolicyDir is where the chart projects the policy ConfigMaps.
	DefaultPolicyDir = "/etc/promotion-gate/policy"
	// DefaultTimeout leaves the answer time to reach Argo CD before the repo-server's
	// 60-second gRPC deadline, which is the only deadline a sidecar has.
	DefaultTimeout = 45 * time.Second
	// DefaultMaxOutputBytes stays well under the 100 MiB gRPC message limit of the
	// repo-server and the CMP server.
	DefaultMaxOutputBytes int64 = 64 << 20
	// DefaultTrustDir is where the documented sidecar mounts trust material.
	DefaultTrustDir = "/etc/promotion-gate/trust"
	// DefaultMemoryShare is the share of the container's memory limit one render may
	// use when EnvMaxMemory is unset: the rest is the plugin process itself, the CMP
	// server and a second render.
	DefaultMemoryShare = 50
	// DefaultRegistryTimeout leaves room for several registry calls per image inside
	// the render's own time limit.
	DefaultRegistryTimeout = 10 * time.Second
)

// Settings are the sidecar's own settings: where the policy is and how much work one
// render may do. The zero value is not useful; use SettingsFromEnv.
type Settings struct {
	PolicyDir      string
	Timeout        time.Duration
	MaxOutputBytes int64
	// TrustDir holds key material the policy references; RegistryTimeout bounds each
	// registry call; DockerConfig is the directory of config.json ("" = none mounted).
	TrustDir        string
	RegistryTimeout time.Duration
	DockerConfig    string
	// VerifyCacheDir keeps verified digests between renders; "" remembers them for one
	// render only.
	VerifyCacheDir string
	// MaxMemory is the memory budget of one render in bytes; 0 means
	// check.DefaultMaxMemory.
	MaxMemory int64
	// RenderCacheDir keeps renders between requests ("" = no cache); RenderCacheBytes
	// bounds it (0 = render.DefaultCacheBytes).
	RenderCacheDir   string
	RenderCacheBytes int64
}

// SettingsFromEnv reads the sidecar settings through getenv (os.Getenv in the binary),
// with defaults for what is unset.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	s := DefaultSettings()
	if v := strings.TrimSpace(getenv(EnvPolicyDir)); v != "" {
		s.PolicyDir = v
	}
	if v := strings.TrimSpace(getenv(EnvTrustDir)); v != "" {
		s.TrustDir = v
	}
	s.DockerConfig = strings.TrimSpace(getenv(EnvDockerConfig))
	s.VerifyCacheDir = strings.TrimSpace(getenv(EnvVerifyCacheDir))
	s.RenderCacheDir = strings.TrimSpace(getenv(EnvRenderCacheDir))
	if v := strings.TrimSpace(getenv(EnvRenderCacheSize)); v != "" {
		q, err := resource.ParseQuantity(v)
		if err != nil || q.Value() <= 0 {
			return Settings{}, fmt.Errorf("%s=%q on the sidecar: want a size such as 1Gi", EnvRenderCacheSize, v)
		}
		s.RenderCacheBytes = q.Value()
	}
	if v := strings.TrimSpace(getenv(EnvRegistryTimeout)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return Settings{}, fmt.Errorf("%s=%q on the sidecar: want a duration such as 10s: %w", EnvRegistryTimeout, v, err)
		}
		s.RegistryTimeout = d
	}
	if v := strings.TrimSpace(getenv(EnvTimeout)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return Settings{}, fmt.Errorf("%s=%q on the sidecar: want a duration such as 45s: %w", EnvTimeout, v, err)
		}
		s.Timeout = d
	}
	if v := strings.TrimSpace(getenv(EnvMaxOutputBytes)); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return Settings{}, fmt.Errorf("%s=%q on the sidecar: want a number of bytes: %w", EnvMaxOutputBytes, v, err)
		}
		s.MaxOutputBytes = n
	}
	mem, err := maxMemory(getenv(EnvMaxMemory), getenv(EnvMemoryLimit))
	if err != nil {
		return Settings{}, err
	}
	s.MaxMemory = mem
	return s, s.Validate()
}

// DefaultSettings are the settings of a sidecar that sets none.
func DefaultSettings() Settings {
	return Settings{PolicyDir: DefaultPolicyDir, Timeout: DefaultTimeout, MaxOutputBytes: DefaultMaxOutputBytes,
		TrustDir: DefaultTrustDir, RegistryTimeout: DefaultRegistryTimeout, MaxMemory: check.DefaultMaxMemory}
}

// maxMemory reads the render budget: a quantity, or a percentage of the container's
// limit; unset, DefaultMemoryShare of the limit when it is known, else
// check.DefaultMaxMemory.
func maxMemory(budget, limit string) (int64, error) {
	budget, limit = strings.TrimSpace(budget), strings.TrimSpace(limit)
	var containerLimit int64
	if limit != "" {
		q, err := resource.ParseQuantity(limit)
		if err != nil || q.Value() <= 0 {
			return 0, fmt.Errorf("%s=%q on the sidecar: want the container's memory limit in bytes (the chart sets it from resources.limits.memory)", EnvMemoryLimit, limit)
		}
		containerLimit = q.Value()
	}
	if budget == "" {
		budget = strconv.Itoa(DefaultMemoryShare) + "%"
		if containerLimit == 0 {
			return check.DefaultMaxMemory, nil
		}
	}
	if pct, ok := strings.CutSuffix(budget, "%"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(pct))
		if err != nil || n <= 0 || n > 100 {
			return 0, fmt.Errorf("%s=%q on the sidecar: want a percentage from 1%% to 100%% or a quantity such as 512Mi", EnvMaxMemory, budget)
		}
		if containerLimit == 0 {
			return 0, fmt.Errorf("%s=%q is a share of the container's memory limit, but %s is not set: set it from the container's limits.memory, or give the budget as a quantity such as 512Mi", EnvMaxMemory, budget, EnvMemoryLimit)
		}
		return containerLimit * int64(n) / 100, nil
	}
	q, err := resource.ParseQuantity(budget)
	if err != nil {
		return 0, fmt.Errorf("%s=%q on the sidecar: want a quantity such as 512Mi or a percentage such as 50%%: %w", EnvMaxMemory, budget, err)
	}
	return q.Value(), nil
}

// Validate rejects settings that would let a render run unbounded.
func (s Settings) Validate() error {
	if s.PolicyDir == "" {
		return fmt.Errorf("policy directory is empty: set %s on the sidecar or leave it unset for %s", EnvPolicyDir, DefaultPolicyDir)
	}
	if s.Timeout <= 0 {
		return fmt.Errorf("timeout %s must be positive (%s on the sidecar)", s.Timeout, EnvTimeout)
	}
	if s.RegistryTimeout <= 0 {
		return fmt.Errorf("registry timeout %s must be positive (%s on the sidecar)", s.RegistryTimeout, EnvRegistryTimeout)
	}
	if s.MaxMemory != 0 && s.MaxMemory < minMemory {
		return fmt.Errorf("render memory budget of %d bytes is under the minimum of %d MiB (%s on the sidecar)", s.MaxMemory, minMemory>>20, EnvMaxMemory)
	}
	if s.MaxOutputBytes <= 0 {
		return fmt.Errorf("output limit %d must be positive (%s on the sidecar)", s.MaxOutputBytes, EnvMaxOutputBytes)
	}
	return nil
}
