{{/* The image reference: repository, then :tag and @digest when set. */}}
{{- define "payments-api.image" -}}
{{ .Values.image.repository }}{{ with .Values.image.tag }}:{{ . }}{{ end }}{{ with .Values.image.digest }}@{{ . }}{{ end }}
{{- end -}}
