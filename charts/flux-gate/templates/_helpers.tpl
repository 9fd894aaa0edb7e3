{{/* Chart name. */}}
{{- define "flux-gate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the prefix of every object name. */}}
{{- define "flux-gate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Selector labels: stable across upgrades. */}}
{{- define "flux-gate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "flux-gate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "flux-gate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "flux-gate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: promotion-gate
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* ServiceAccount name. */}}
{{- define "flux-gate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "flux-gate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference: repository:tag, with @digest when one is set. */}}
{{- define "flux-gate.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- with .Values.image.digest }}{{ $ref = printf "%s@%s" $ref . }}{{ end }}
{{- $ref }}
{{- end }}

{{/* Namespace of the policy ConfigMaps. */}}
{{- define "flux-gate.policyNamespace" -}}
{{- default .Release.Namespace .Values.controller.policyNamespace }}
{{- end }}

{{/* Namespaces where Secrets may be read, as a JSON list; [] means "same scope as the gates". */}}
{{- define "flux-gate.secretNamespaces" -}}
{{- if .Values.rbac.secretNamespaces }}
{{- toJson (.Values.rbac.secretNamespaces | uniq) }}
{{- else }}
{{- toJson (.Values.controller.watchNamespaces | uniq) }}
{{- end }}
{{- end }}
