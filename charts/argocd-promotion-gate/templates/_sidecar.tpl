{{- /*
The argo-cd chart values that add the sidecar to the repo-server, for this release: printed
by NOTES.txt and documented in docs/install.md. The argo-cd chart already defines the
var-files and plugins volumes every CMP sidecar mounts.
*/ -}}
{{- define "argocd-promotion-gate.argoCDValues" -}}
repoServer:
  extraContainers:
    - name: promotion-gate
      image: {{ include "argocd-promotion-gate.image" . }}
      command: [/var/run/argocd/argocd-cmp-server]
      env:
        - name: PROMOTION_GATE_POLICY_DIR
          value: /etc/promotion-gate/policy
        - name: PROMOTION_GATE_TIMEOUT
          value: {{ .Values.sidecar.timeout | quote }}
        - name: PROMOTION_GATE_TRUST_DIR
          value: /etc/promotion-gate/trust
        - name: PROMOTION_GATE_REGISTRY_TIMEOUT
          value: {{ .Values.sidecar.registryTimeout | quote }}
        - name: PROMOTION_GATE_VERIFY_CACHE_DIR
          value: /var/cache/promotion-gate/verified
        - name: PROMOTION_GATE_MEMORY_LIMIT
          valueFrom:
            resourceFieldRef:
              containerName: promotion-gate
              resource: limits.memory
        - name: PROMOTION_GATE_MAX_MEMORY
          value: {{ .Values.sidecar.renderMemory | quote }}
        {{- if .Values.sidecar.renderCache.enabled }}
        - name: PROMOTION_GATE_RENDER_CACHE_DIR
          value: /var/cache/promotion-gate-renders/cache
        - name: PROMOTION_GATE_RENDER_CACHE_SIZE
          value: {{ .Values.sidecar.renderCache.size | quote }}
        {{- end }}
        {{- if .Values.sidecar.registryCredentialsSecret }}
        - name: DOCKER_CONFIG
          value: /etc/promotion-gate/docker
        {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 999
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: [ALL]
        seccompProfile:
          type: RuntimeDefault
      resources:
        {{- toYaml .Values.sidecar.resources | nindent 8 }}
      volumeMounts:
        - name: var-files
          mountPath: /var/run/argocd
        - name: plugins
          mountPath: /home/argocd/cmp-server/plugins
        - name: promotion-gate-plugin
          mountPath: /home/argocd/cmp-server/config/plugin.yaml
          subPath: plugin.yaml
        - name: promotion-gate-policy
          mountPath: /etc/promotion-gate/policy
          readOnly: true
        - name: promotion-gate-tmp
          mountPath: /tmp
        - name: promotion-gate-cache
          mountPath: /var/cache/promotion-gate
        {{- if .Values.sidecar.renderCache.enabled }}
        - name: promotion-gate-render-cache
          mountPath: /var/cache/promotion-gate-renders
        {{- end }}
        {{- range $i, $name := .Values.sidecar.trust.secrets }}
        - name: promotion-gate-trust-secret-{{ $i }}
          mountPath: /etc/promotion-gate/trust/{{ $name }}
          readOnly: true
        {{- end }}
        {{- range $i, $name := .Values.sidecar.trust.configMaps }}
        - name: promotion-gate-trust-configmap-{{ $i }}
          mountPath: /etc/promotion-gate/trust/{{ $name }}
          readOnly: true
        {{- end }}
        {{- if .Values.sidecar.registryCredentialsSecret }}
        - name: promotion-gate-docker
          mountPath: /etc/promotion-gate/docker
          readOnly: true
        {{- end }}
  volumes:
    - name: promotion-gate-plugin
      configMap:
        name: {{ include "argocd-promotion-gate.pluginConfigMapName" . }}
    - name: promotion-gate-policy
      projected:
        {{- if .Values.policies }}
        sources:
          {{- range $name, $_ := .Values.policies }}
          - configMap:
              name: {{ include "promotion-gate.policyConfigMapName" (dict "prefix" (include "argocd-promotion-gate.fullname" $) "name" $name) }}
          {{- end }}
        {{- else }}
        # No policy in this release: list your policy ConfigMaps here. Without one the
        # plugin refuses every render (fail closed).
        sources: []
        {{- end }}
    - name: promotion-gate-tmp
      emptyDir:
        sizeLimit: {{ .Values.sidecar.tmpSizeLimit }}
    # Verified digests, shared by the sidecar's renders: a volume of its own, apart from
    # /tmp where repositories are unpacked, since a file here makes a check pass.
    - name: promotion-gate-cache
      emptyDir:
        sizeLimit: 64Mi
    {{- if .Values.sidecar.renderCache.enabled }}
    # Renders kept by their inputs, between requests and across commits: a volume of its
    # own, since an entry here is served as a render.
    - name: promotion-gate-render-cache
      emptyDir:
        sizeLimit: {{ .Values.sidecar.renderCache.sizeLimit }}
    {{- end }}
    {{- range $i, $name := .Values.sidecar.trust.secrets }}
    - name: promotion-gate-trust-secret-{{ $i }}
      secret:
        secretName: {{ $name }}
    {{- end }}
    {{- range $i, $name := .Values.sidecar.trust.configMaps }}
    - name: promotion-gate-trust-configmap-{{ $i }}
      configMap:
        name: {{ $name }}
    {{- end }}
    {{- with .Values.sidecar.registryCredentialsSecret }}
    - name: promotion-gate-docker
      secret:
        secretName: {{ . }}
        items:
          - key: .dockerconfigjson
            path: config.json
    {{- end }}
{{- end }}
