{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "akguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name used for every object the chart creates. */}}
{{- define "akguard.fullname" -}}
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

{{- define "akguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "akguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "akguard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "akguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: akguard
{{- end }}

{{- define "akguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "akguard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "akguard.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Namespaces the operator acts in, as a YAML list; empty when it watches all namespaces.
With no list and allNamespaces off, the operator watches the release namespace only.
*/}}
{{- define "akguard.watchedNamespaces" -}}
{{- if .Values.watch.allNamespaces }}
{{- list | toYaml }}
{{- else if .Values.watch.namespaces }}
{{- .Values.watch.namespaces | uniq | toYaml }}
{{- else }}
{{- list .Release.Namespace | toYaml }}
{{- end }}
{{- end }}

{{/*
Prometheus metric names and label values that the alerts read. They must match the names the
operator exports; this is the one place to change them.
*/}}
{{- define "akguard.metricNames" -}}
rotationsTotal: akguard_rotations_total
nextRotationTimestamp: akguard_next_rotation_timestamp_seconds
keyAge: akguard_key_age_seconds
oldKeyInUse: akguard_old_key_in_use
rotationBlocked: akguard_rotation_blocked
# Values of the `result` label of rotationsTotal (completed, rolled_back, failed) that count
# as a failed rotation, as a regular expression.
failedResults: failed|rolled_back
{{- end }}
