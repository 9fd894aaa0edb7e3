{{- /*
CEL fragments of the admission policy, for one Argo CD ApplicationSource named by the
argument (e.g. "object.spec.source", or "s" inside a macro).
*/ -}}

{{- /* The source path split into segments, without empty and "." ones. */ -}}
{{- define "argocd-promotion-gate.celSegments" -}}
(has({{ . }}.path) ? {{ . }}.path : '').split('/').filter(x, x != '' && x != '.')
{{- end }}

{{- /* True when the source renders a guarded environment without the plugin. A source that
only provides a ref (values files for other sources) renders nothing. A ".." segment
cannot be classified without resolving it, so it counts as guarded. */ -}}
{{- define "argocd-promotion-gate.celViolates" -}}
!(has({{ . }}.ref) && !has({{ . }}.path) && !has({{ . }}.chart)) &&
(variables.appGuarded || (size({{ include "argocd-promotion-gate.celSegments" . }}) > 0 &&
({{ include "argocd-promotion-gate.celSegments" . }}.exists(x, x == '..') ||
variables.pathRegexes.exists(r, {{ include "argocd-promotion-gate.celSegments" . }}.join('/').matches(r))))) &&
!(has({{ . }}.plugin) && has({{ . }}.plugin.name) && {{ . }}.plugin.name in variables.pluginNames)
{{- end }}

{{- /* The source, as a person finds it in the Application. */ -}}
{{- define "argocd-promotion-gate.celDescribe" -}}
(has({{ . }}.path) ? 'path "' + {{ . }}.path + '"' : (has({{ . }}.chart) ? 'chart "' + {{ . }}.chart + '"' : 'the repository root')) + ' of ' + {{ . }}.repoURL
{{- end }}
