{{/* The chart's name, shortened to a DNS label. */}}
{{- define "model-csi-driver.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: names the namespaced objects and the cluster roles. */}}
{{- define "model-csi-driver.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "model-csi-driver.selectorLabels" -}}
app.kubernetes.io/name: {{ include "model-csi-driver.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "model-csi-driver.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "model-csi-driver.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: csi-node-driver
{{- end -}}

{{- define "model-csi-driver.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "model-csi-driver.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The driver name, required and trimmed: the CSIDriver object and the plugin directory. */}}
{{- define "model-csi-driver.driverName" -}}
{{- required "config.serviceName is required" .Values.config.serviceName | trim -}}
{{- end -}}

{{/* kubelet's directory without a trailing slash. */}}
{{- define "model-csi-driver.kubeletDir" -}}
{{- required "kubeletDir is required" .Values.kubeletDir | trimSuffix "/" -}}
{{- end -}}

{{/* The driver's plugin directory on the node; its socket is csi.sock inside. */}}
{{- define "model-csi-driver.pluginDir" -}}
{{- printf "%s/plugins/%s" (include "model-csi-driver.kubeletDir" .) (include "model-csi-driver.driverName" .) -}}
{{- end -}}

{{/* Where the plugin directory is mounted in every container of the pod. */}}
{{- define "model-csi-driver.socketDir" -}}/csi{{- end -}}

{{- define "model-csi-driver.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) -}}
{{- end -}}

{{/* Whether the pod mounts a Docker config.json with registry credentials. */}}
{{- define "model-csi-driver.registryAuth" -}}
{{- if or .Values.registryAuth.existingSecret .Values.config.registryAuths -}}true{{- end -}}
{{- end -}}

{{- define "model-csi-driver.registryAuthSecret" -}}
{{- default (printf "%s-registry-auth" (include "model-csi-driver.fullname" .)) .Values.registryAuth.existingSecret -}}
{{- end -}}

{{/* The driver's config.yaml. */}}
{{- define "model-csi-driver.config" -}}
service_name: {{ include "model-csi-driver.driverName" . | quote }}
root_dir: {{ required "config.rootDir is required" .Values.config.rootDir | quote }}
csi_endpoint: {{ printf "unix://%s/csi.sock" (include "model-csi-driver.socketDir" .) | quote }}
{{- if .Values.metrics.enabled }}
metrics_addr: {{ printf "tcp://$POD_IP:%v" .Values.metrics.port | quote }}
{{- end }}
{{- with .Values.config.pullConfig }}
pull_config:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.config.cache }}
cache:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.config.features }}
features:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The controller's labels: the release's, with its own component. */}}
{{- define "model-csi-driver.controllerLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "model-csi-driver.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: controller
{{- end -}}

{{/*
The controller's pods: a name of their own, so the DaemonSet's selector (name and instance)
never matches them.
*/}}
{{- define "model-csi-driver.controllerSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-controller" (include "model-csi-driver.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "model-csi-driver.controllerName" -}}
{{- printf "%s-controller" (include "model-csi-driver.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
