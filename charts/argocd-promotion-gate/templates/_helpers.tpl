{{/* Chart name. */}}
{{- define "argocd-promotion-gate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the prefix of every object name. */}}
{{- define "argocd-promotion-gate.fullname" -}}
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

{{/* Labels of every object. */}}
{{- define "argocd-promotion-gate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "argocd-promotion-gate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: promotion-gate
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Name of the plugin.yaml ConfigMap. */}}
{{- define "argocd-promotion-gate.pluginConfigMapName" -}}
{{- include "argocd-promotion-gate.fullname" . }}-plugin
{{- end }}

{{/* Sidecar image reference for the snippet in NOTES.txt. */}}
{{- define "argocd-promotion-gate.image" -}}
{{- $img := .Values.sidecar.image }}
{{- $ref := printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) }}
{{- with $img.digest }}{{ $ref = printf "%s@%s" $ref . }}{{ end }}
{{- $ref }}
{{- end }}

{{- /*
The PromotionPolicy documents of .Values.policies as a JSON list: a value is one document
(an object) or YAML text with one or more '---'-separated documents.
*/ -}}
{{- define "argocd-promotion-gate.policyDocuments" -}}
{{- $docs := list }}
{{- range $name, $v := .Values.policies }}
{{- if kindIs "string" $v }}
{{- range regexSplit "(?m)^---[ \t]*$" $v -1 }}
{{- if trim . }}
{{- $d := fromYaml . }}
{{- if hasKey $d "Error" }}
{{- fail (printf "policies.%s: not valid YAML: %s" $name $d.Error) }}
{{- end }}
{{- if $d }}{{ $docs = append $docs $d }}{{ end }}
{{- end }}
{{- end }}
{{- else }}
{{- $docs = append $docs $v }}
{{- end }}
{{- end }}
{{- toJson $docs }}
{{- end }}

{{- /*
The match globs of FIELD (paths, applications, namespaces or projects) of every protected environment
in .Values.policies, as a JSON list. Call with (dict "root" $ "field" FIELD).
*/ -}}
{{- define "argocd-promotion-gate.protectedGlobs" -}}
{{- $out := list }}
{{- range include "argocd-promotion-gate.policyDocuments" .root | fromJsonArray }}
{{- $spec := default dict .spec }}
{{- range $env := default list $spec.environments }}
{{- if $env.protected }}
{{- $match := default dict $env.match }}
{{- $out = concat $out (default list (get $match $.field)) }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson (uniq $out) }}
{{- end }}

{{- /*
A doublestar glob as an anchored RE2 regular expression, with doublestar's meaning: "*"
and "?" stay within one path segment, a "**" segment matches zero or more segments ("a/**"
matches "a" too), "{x,y}" is an alternation. Character classes and escapes are refused
rather than guessed: list the alternatives as separate globs instead.
*/ -}}
{{- define "argocd-promotion-gate.globRegex" -}}
{{- $glob := . }}
{{- if regexMatch "[\\[\\]\\\\]" $glob }}
{{- fail (printf "admission policy: glob %q uses a character class or an escape, which the admission policy does not translate; list the alternatives as separate globs in admissionPolicy.protectedPaths" $glob) }}
{{- end }}
{{- $segs := splitList "/" $glob }}
{{- $n := len $segs }}
{{- $out := "" }}
{{- $sep := "" }}
{{- range $i, $seg := $segs }}
{{- if eq $seg "**" }}
{{- if eq $i 0 }}
{{- if eq $n 1 }}{{ $out = ".*" }}{{ else }}{{ $out = "(?:.*/)?" }}{{ end }}
{{- $sep = "" }}
{{- else }}
{{- $out = printf "%s(?:/.*)?" $out }}
{{- $sep = "/" }}
{{- end }}
{{- else }}
{{- $q := regexQuoteMeta $seg | replace "\\*\\*" "\\*" | replace "\\*" "[^/]*" | replace "\\?" "[^/]" }}
{{- $parts := splitList "\\{" $q }}
{{- $r := first $parts }}
{{- range rest $parts }}
{{- $alt := splitn "\\}" 2 . }}
{{- if or (not (contains "\\}" .)) (contains "\\{" $alt._0) }}
{{- fail (printf "admission policy: glob %q has an unbalanced or nested {...} or one that spans a '/'; write the alternatives as separate globs" $glob) }}
{{- end }}
{{- $r = printf "%s(?:%s)%s" $r (replace "," "|" $alt._0) $alt._1 }}
{{- end }}
{{- if contains "\\}" $r }}
{{- fail (printf "admission policy: glob %q has an unbalanced or nested {...} or one that spans a '/'; write the alternatives as separate globs" $glob) }}
{{- end }}
{{- $out = printf "%s%s%s" $out $sep $r }}
{{- $sep = "/" }}
{{- end }}
{{- end }}
{{- printf "^%s$" $out }}
{{- end }}

{{- /* A JSON list of globs as a JSON (and CEL) list of regular expressions. */ -}}
{{- define "argocd-promotion-gate.globRegexes" -}}
{{- $out := list }}
{{- range . }}{{ $out = append $out (include "argocd-promotion-gate.globRegex" .) }}{{ end }}
{{- toJson $out }}
{{- end }}
