package cmp

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Parameter names, as plugin.yaml announces them and applications set them in
// spec.source.plugin.parameters.
const (
	// ParamValuesFiles lists Helm values files, relative to the application path (or to
	// the repository root when they start with "/"). An array, or one comma-separated string.
	ParamValuesFiles = "values-files"
	// ParamReleaseName is the Helm release name; the application name when unset.
	ParamReleaseName = "release-name"
	// ParamEnvironment names an environment of the policy. It can only make the
	// classification stricter: a prod path stays prod whatever it says.
	ParamEnvironment = "environment"

	maxValuesFiles = 64
)

// Params are the application's plugin parameters.
type Params struct {
	ValuesFiles []string
	ReleaseName string
	Environment string
}

// parameter is one entry of ARGOCD_APP_PARAMETERS, the JSON form of
// spec.source.plugin.parameters that Argo CD passes next to the PARAM_* variables.
type parameter struct {
	Name   string            `json:"name"`
	String *string           `json:"string,omitempty"`
	Array  []string          `json:"array,omitempty"`
	Map    map[string]string `json:"map,omitempty"`
}

// parseParams reads the parameters from ARGOCD_APP_PARAMETERS when Argo CD sent it (it
// keeps arrays and strings apart), else from the PARAM_* variables. An unknown parameter
// is an error, so that a typo does not silently drop a values file or an environment.
func parseParams(env map[string]string) (Params, error) {
	if raw, ok := env[EnvAppParameters]; ok && strings.TrimSpace(raw) != "" {
		return parseParamsJSON(raw)
	}
	return parseParamEnv(env)
}

func parseParamsJSON(raw string) (Params, error) {
	var list []parameter
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return Params{}, fmt.Errorf("read %s (spec.source.plugin.parameters): %w", EnvAppParameters, err)
	}
	var p Params
	for _, item := range list {
		switch item.Name {
		case ParamValuesFiles:
			if item.Map != nil {
				return Params{}, fmt.Errorf("parameter %q is a list of files: set array (or string), not map", item.Name)
			}
			p.ValuesFiles = append(p.ValuesFiles, item.Array...)
			if item.String != nil {
				p.ValuesFiles = append(p.ValuesFiles, splitList(*item.String)...)
			}
		case ParamReleaseName, ParamEnvironment:
			if item.Array != nil || item.Map != nil {
				return Params{}, fmt.Errorf("parameter %q takes a string: set string, not array or map", item.Name)
			}
			value := ""
			if item.String != nil {
				value = strings.TrimSpace(*item.String)
			}
			if item.Name == ParamReleaseName {
				p.ReleaseName = value
			} else {
				p.Environment = value
			}
		default:
			return Params{}, unknownParam(item.Name)
		}
	}
	return p, p.validate()
}

// parseParamEnv reads PARAM_VALUES_FILES (comma-separated) or PARAM_VALUES_FILES_<i>,
// PARAM_RELEASE_NAME and PARAM_ENVIRONMENT, for callers that send only those.
func parseParamEnv(env map[string]string) (Params, error) {
	var p Params
	indexed := map[int]string{}
	for name, value := range env {
		if !strings.HasPrefix(name, paramEnvPrefix) {
			continue
		}
		key := strings.TrimPrefix(name, paramEnvPrefix)
		switch {
		case key == "VALUES_FILES":
			p.ValuesFiles = append(p.ValuesFiles, splitList(value)...)
		case strings.HasPrefix(key, "VALUES_FILES_"):
			i, err := strconv.Atoi(strings.TrimPrefix(key, "VALUES_FILES_"))
			if err != nil || i < 0 || i >= maxValuesFiles {
				return Params{}, unknownParam(name)
			}
			indexed[i] = value
		case key == "RELEASE_NAME":
			p.ReleaseName = strings.TrimSpace(value)
		case key == "ENVIRONMENT":
			p.Environment = strings.TrimSpace(value)
		default:
			return Params{}, unknownParam(name)
		}
	}
	keys := make([]int, 0, len(indexed))
	for i := range indexed {
		keys = append(keys, i)
	}
	sort.Ints(keys)
	for _, i := range keys {
		p.ValuesFiles = append(p.ValuesFiles, indexed[i])
	}
	return p, p.validate()
}

func (p Params) validate() error {
	if len(p.ValuesFiles) > maxValuesFiles {
		return fmt.Errorf("parameter %q lists %d files, over the limit of %d", ParamValuesFiles, len(p.ValuesFiles), maxValuesFiles)
	}
	for _, f := range p.ValuesFiles {
		if strings.TrimSpace(f) == "" {
			return fmt.Errorf("parameter %q has an empty file name: remove it", ParamValuesFiles)
		}
		if strings.ContainsRune(f, 0) {
			return fmt.Errorf("parameter %q: file name %q holds a NUL byte", ParamValuesFiles, f)
		}
	}
	return nil
}

func unknownParam(name string) error {
	return fmt.Errorf("unknown plugin parameter %q: promotion-gate takes %q, %q and %q", name, ParamValuesFiles, ParamReleaseName, ParamEnvironment)
}

// splitList splits a comma-separated string, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
