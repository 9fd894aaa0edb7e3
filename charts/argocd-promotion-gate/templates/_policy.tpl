{{- /*
Policy ConfigMaps from .Values.policies: the one values format both promotion-gate charts
share. This file is identical in charts/flux-gate and charts/argocd-promotion-gate (a test
keeps it so). Call with (dict "root" $ "namespace" NS "prefix" PREFIX "labels" LABELS).
*/ -}}
{{- define "promotion-gate.policyConfigMaps" -}}
{{- range $name, $doc := .root.Values.policies }}
{{- if not $doc }}
{{- fail (printf "policies.%s is empty: give a PromotionPolicy document (YAML object or string), or remove the key" $name) }}
{{- end }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "promotion-gate.policyConfigMapName" (dict "prefix" $.prefix "name" $name) }}
  namespace: {{ $.namespace }}
  labels:
    {{- $.labels | nindent 4 }}
    promotion-gate.io/policy: "true"
data:
  {{ $name }}.yaml: |
    {{- if kindIs "string" $doc }}
    {{- $doc | trim | nindent 4 }}
    {{- else }}
    {{- toYaml $doc | trim | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}

{{- /* Name of the ConfigMap that holds policy NAME. */ -}}
{{- define "promotion-gate.policyConfigMapName" -}}
{{- printf "%s-policy-%s" .prefix .name | trunc 253 | trimSuffix "-" }}
{{- end }}
