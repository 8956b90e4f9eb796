#!/usr/bin/env bash
# Packaging checks: the Helm chart, its CRD copy, the Dockerfile, the static binary and the
# Argo CD health check. Installs the tools it needs first (scripts/install-tools.sh).
#
# Usage:
#   scripts/ci-packaging.sh [STEP...]     run the named steps, or all of them in this order:
#       crds            charts/akguard/crds/ is an exact copy of crds/
#       chart           helm lint --strict and helm template for the default values and each
#                       charts/akguard/ci/*-values.yaml, then checks on the rendered manifests
#       invalid-values  each charts/akguard/ci/invalid/*.yaml is rejected by values.schema.json
#       alerts          promtool checks the PrometheusRule and runs charts/akguard/ci/alerts-test.yaml;
#                       each metric name the alerts read appears in the operator's source
#       hadolint        the Dockerfile passes hadolint
#       static-binary   builds the binary the Dockerfile builds and runs --version in an empty root
#       argocd          the Argo CD health check returns the expected status on sample objects;
#                       docs/gitops.md shows that check unchanged and valid AccessKeyRotations
#   scripts/ci-packaging.sh apply-to-api-server KUBECTL_FLAG...
#       renders the chart for each values file and applies it with kubectl to the API server
#       the flags select (for example --server=http://127.0.0.1:PORT); not part of the default run
#
# Each step prints one heading line. The script runs every requested step, then exits 1 if any
# failed, after listing which.
set -euo pipefail
cd "$(dirname "$0")/.."

chart=charts/akguard
release_namespace=akguard-system
musl_target=x86_64-unknown-linux-musl
# The Dockerfile runs this exact command; the static-binary step fails if the two differ.
static_build_command="cargo build --release --locked --target $musl_target --package akguard --bin akguard"
# Separate from target/ so the release build does not wait on, or block, the cargo lock of the
# debug builds and tests that share the work tree.
packaging_target_dir=${AKGUARD_PACKAGING_TARGET_DIR:-$PWD/target/packaging}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

heading() { echo "== packaging: $*"; }
error() { echo "error: $*" >&2; }

tools() {
  bash scripts/install-tools.sh >"$work/install-tools.log" 2>&1 || {
    cat "$work/install-tools.log" >&2
    error "installing the packaging tools failed (output above); fix it, then rerun scripts/install-tools.sh"
    return 1
  }
  export PATH="$PWD/.tools/bin:$PATH"
}

# Succeeds when directory $2 contains exactly the *.yaml files of directory $1, byte for byte.
# A missing directory counts as empty.
compare_crd_dirs() {
  local source_dir=$1 copy_dir=$2 status=0 name
  local source_files copy_files
  source_files=$(cd "$source_dir" 2>/dev/null && ls -1 -- *.yaml 2>/dev/null || true)
  copy_files=$(cd "$copy_dir" 2>/dev/null && ls -1 -- *.yaml 2>/dev/null || true)
  if [ "$source_files" != "$copy_files" ]; then
    echo "files differ: $source_dir has [$(echo $source_files)], $copy_dir has [$(echo $copy_files)]"
    status=1
  fi
  for name in $source_files; do
    if [ -f "$copy_dir/$name" ] && ! cmp -s "$source_dir/$name" "$copy_dir/$name"; then
      echo "content differs: $copy_dir/$name"
      status=1
    fi
  done
  return $status
}

step_crds() {
  heading "CRDs in $chart/crds/ are an exact copy of crds/"
  # First prove the comparison notices a changed file, so an empty or broken check cannot pass.
  mkdir -p "$work/crd-self-test/source" "$work/crd-self-test/copy"
  echo "kind: CustomResourceDefinition" >"$work/crd-self-test/source/example.yaml"
  echo "kind: CustomResourceDefinition # edited" >"$work/crd-self-test/copy/example.yaml"
  if compare_crd_dirs "$work/crd-self-test/source" "$work/crd-self-test/copy" >/dev/null; then
    error "the CRD comparison did not notice a changed file; fix compare_crd_dirs in $0"
    return 1
  fi

  if [ -z "$(ls -A crds/*.yaml 2>/dev/null)" ]; then
    echo "note: crds/ holds no CRDs yet; the chart must hold none either"
  fi
  if ! compare_crd_dirs crds "$chart/crds"; then
    error "the chart's CRDs differ from crds/; copy them: rm -f $chart/crds/*.yaml && mkdir -p $chart/crds && cp crds/*.yaml $chart/crds/"
    return 1
  fi
}

# Renders the chart with an optional values file into $work/rendered-NAME.yaml.
render_chart() {
  local name=$1 values_file=${2:-}
  helm template "ci-$name" "$chart" --namespace "$release_namespace" --include-crds \
    ${values_file:+--values "$values_file"} >"$work/rendered-$name.yaml"
}

step_chart() {
  heading "helm lint --strict, helm template and manifest checks for each values file"
  local status=0 values_file name app_version crate_version
  # The image tag defaults to appVersion, so it must name the version the Dockerfile builds.
  app_version=$(sed -n 's/^appVersion: "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml")
  crate_version=$(sed -n '/^\[package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
  if [ "$app_version" != "$crate_version" ]; then
    error "$chart/Chart.yaml has appVersion '$app_version' but Cargo.toml has version '$crate_version'; make them equal"
    status=1
  fi
  for values_file in "" "$chart"/ci/*-values.yaml; do
    name=$(basename "${values_file:-default}" .yaml)
    if ! helm lint --strict "$chart" --namespace "$release_namespace" \
      ${values_file:+--values "$values_file"} >"$work/lint.log" 2>&1; then
      cat "$work/lint.log"
      error "helm lint --strict failed for $name values; fix the template or values named above"
      status=1
      continue
    fi
    if ! render_chart "$name" "$values_file" 2>"$work/template.log"; then
      cat "$work/template.log"
      error "helm template failed for $name values; fix the template named above"
      status=1
      continue
    fi
    if ! python3 "$chart/ci/check-rendered-manifests.py" "$work/rendered-$name.yaml" "$release_namespace" $values_file; then
      error "rendered manifests for $name values break the rules listed above; fix the templates under $chart/templates"
      status=1
      continue
    fi
    echo "ok   $name"
  done
  return $status
}

step_invalid_values() {
  heading "values.schema.json rejects each file in $chart/ci/invalid/"
  local status=0 file_status values_file expected command output accepted
  for values_file in "$chart"/ci/invalid/*.yaml; do
    file_status=0
    # The first line names the part of the error that proves the intended rule rejected it.
    expected=$(sed -n '1s/^# expect: //p' "$values_file")
    if [ -z "$expected" ]; then
      error "$values_file: the first line must be '# expect: TEXT', TEXT being part of the expected error"
      status=1
      continue
    fi
    for command in lint template; do
      if [ "$command" = lint ]; then
        output=$(helm lint --strict "$chart" --values "$values_file" 2>&1) && accepted=true || accepted=false
      else
        output=$(helm template ci-invalid "$chart" --values "$values_file" 2>&1) && accepted=true || accepted=false
      fi
      if [ "$accepted" = true ]; then
        error "helm $command accepted $values_file; values.schema.json must reject it"
        file_status=1
      elif ! grep -qF -- "$expected" <<<"$output"; then
        echo "$output"
        error "helm $command rejected $values_file, but not with '$expected'; check which rule rejected it"
        file_status=1
      fi
    done
    if [ $file_status -eq 0 ]; then
      echo "ok   $(basename "$values_file"): $expected"
    else
      status=1
    fi
  done
  return $status
}

step_alerts() {
  heading "PrometheusRule alerts: promtool check rules and test rules"
  local rules_dir="$work/alerts" metric status=0
  mkdir -p "$rules_dir"
  if ! helm template ci-alerts "$chart" --namespace "$release_namespace" --set prometheusRule.enabled=true \
    --show-only templates/prometheusrule.yaml >"$rules_dir/prometheusrule.yaml"; then
    error "helm template failed for the PrometheusRule; fix $chart/templates/prometheusrule.yaml"
    return 1
  fi
  # promtool reads a plain rules file: the PrometheusRule's spec.
  python3 -c 'import sys, yaml; print(yaml.safe_dump(yaml.safe_load(sys.stdin)["spec"], sort_keys=False))' \
    <"$rules_dir/prometheusrule.yaml" >"$rules_dir/rules.yaml"
  cp "$chart/ci/alerts-test.yaml" "$rules_dir/alerts-test.yaml"
  if ! promtool check rules "$rules_dir/rules.yaml"; then
    error "promtool rejected the alert rules above; fix $chart/templates/prometheusrule.yaml"
    status=1
  elif ! (cd "$rules_dir" && promtool test rules alerts-test.yaml); then
    error "the alert rules did not fire as $chart/ci/alerts-test.yaml expects; fix the rule or the test"
    status=1
  fi

  # The alerts are only as good as their metric names: each must still be exported.
  for metric in $(sed -n 's/^[a-zA-Z]*: \(akguard_[a-z_]*\)$/\1/p' "$chart/templates/_helpers.tpl"); do
    if ! grep -rqF -- "$metric" src/; then
      error "metric $metric, read by the alerts, appears nowhere in src/; update akguard.metricNames in $chart/templates/_helpers.tpl"
      status=1
    fi
  done
  return $status
}

step_hadolint() {
  heading "hadolint Dockerfile"
  if ! hadolint Dockerfile; then
    error "hadolint found the problems above in Dockerfile; fix them or add an inline '# hadolint ignore=RULE' with the reason"
    return 1
  fi
}

step_static_binary() {
  heading "static release binary and its --version in an empty root"
  if ! grep -qF -- "$static_build_command" Dockerfile; then
    error "the Dockerfile no longer runs '$static_build_command'; update static_build_command in $0 to match it"
    return 1
  fi

  local binary build_command
  # The timeout bounds a download that hangs instead of failing.
  if timeout 300 rustup target add "$musl_target" >"$work/rustup.log" 2>&1; then
    build_command=$static_build_command
    binary="$packaging_target_dir/$musl_target/release/akguard"
  else
    # The musl standard library comes from rustup's download server, which not every machine
    # reaches. The host build below links glibc statically, so the empty-root check still applies.
    local reason
    reason=$(tail -n 1 "$work/rustup.log")
    echo "note: rustup could not install the $musl_target target (${reason:-no output within 300 s}); building the release binary for the host instead"
    local host
    host=$(rustc -vV | sed -n 's/^host: //p')
    build_command="cargo build --release --locked --target $host --package akguard --bin akguard"
    export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
    binary="$packaging_target_dir/$host/release/akguard"
  fi

  echo "$build_command (CARGO_TARGET_DIR=$packaging_target_dir)"
  if ! CARGO_TARGET_DIR=$packaging_target_dir $build_command >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log"
    error "the release build failed (last lines above); run '$build_command' to see every error"
    return 1
  fi

  # An empty root proves the binary needs no file from the image: no dynamic loader, no shared
  # library, no /etc.
  local root="$work/empty-root" output
  mkdir -p "$root"
  cp "$binary" "$root/akguard"
  output=$(chroot_or_unshare "$root" /akguard --version 2>&1) || {
    echo "$output"
    error "$binary did not run in an empty root; it needs files from the image (not static), or, without root, user namespaces are off"
    return 1
  }

  local version
  version=$(sed -n '/^\[package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
  if [ "$output" != "akguard $version" ]; then
    error "--version printed '$output', expected 'akguard $version' (the version in Cargo.toml)"
    return 1
  fi
  echo "ok   $output, in an empty root ($(du -h "$binary" | cut -f1))"

  # Every flag the chart passes to `akguard run` must exist in this binary.
  local help flag values_file status=0
  help=$(chroot_or_unshare "$root" /akguard run --help 2>&1) || {
    echo "$help"
    error "'akguard run --help' failed in the empty root"
    return 1
  }
  for values_file in "" "$chart"/ci/*-values.yaml; do
    helm template ci-flags "$chart" ${values_file:+--values "$values_file"} --show-only templates/deployment.yaml
  done | sed -n 's/^ *- \(--[a-z][a-z-]*\)=.*/\1/p' | sort -u >"$work/chart-flags"
  while read -r flag; do
    if ! grep -qE -- "(^|[ ,])$flag([ =<]|$)" <<<"$help"; then
      error "the chart passes $flag, which 'akguard run --help' does not list; fix $chart/templates/deployment.yaml or the flag"
      status=1
    fi
  done <"$work/chart-flags"
  [ $status -eq 0 ] && echo "ok   the $(wc -l <"$work/chart-flags") flags the chart passes are all in 'akguard run --help'"
  return $status
}

# Runs a command inside an otherwise empty root directory. chroot needs root; without it, a
# user namespace maps the caller to root.
chroot_or_unshare() {
  local root=$1
  shift
  if [ "$(id -u)" -eq 0 ]; then
    chroot "$root" "$@"
  else
    unshare --map-root-user --root="$root" "$@"
  fi
}

step_argocd() {
  heading "Argo CD health check for AccessKeyRotation (lua5.1)"
  if ! bash tests/argocd/run.sh; then
    error "the health check returned unexpected results above; fix $chart/argocd/health.lua or tests/argocd/health_test.yaml"
    return 1
  fi
  # The AccessKeyRotation examples in docs/gitops.md must be valid against the shipped CRD.
  python3 - docs/gitops.md "$work/doc-example" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
blocks = [b for b in re.findall(r"^```yaml\n(.*?)^```$", text, re.S | re.M) if "kind: AccessKeyRotation" in b]
for index, block in enumerate(blocks):
    with open(f"{sys.argv[2]}-{index}.yaml", "w", encoding="utf-8") as out:
        out.write(block)
PY
  if ls "$work"/doc-example-*.yaml >/dev/null 2>&1 \
    && ! python3 tests/argocd/check_samples.py "$chart/crds/accesskeyrotations.akguard.io.yaml" "$work"/doc-example-*.yaml; then
    error "an AccessKeyRotation example in docs/gitops.md does not match the CRD (see above); fix the example"
    return 1
  fi

  # docs/gitops.md shows the check in its only lua code block, for readers to copy.
  sed -n '/^```lua$/,/^```$/{/^```/d;p}' docs/gitops.md >"$work/health-in-docs.lua"
  if ! cmp -s "$work/health-in-docs.lua" "$chart/argocd/health.lua"; then
    diff -u "$chart/argocd/health.lua" "$work/health-in-docs.lua" | head -n 20 || true
    error "the health check in docs/gitops.md differs from $chart/argocd/health.lua; paste the file into the lua block"
    return 1
  fi
}

# Applies the chart, rendered for the default values and each example values file, to the API
# server selected by the kubectl flags in "$@". Each values file gets its own release name and
# namespace. ServiceMonitor and PrometheusRule are left out unless AKGUARD_APPLY_MONITORING=1,
# because they need the Prometheus Operator's CRDs. KUBECTL selects the kubectl binary.
apply_chart_to_api_server() {
  local kubectl_bin values_file name namespace
  kubectl_bin=${KUBECTL:-$(command -v kubectl)}
  local kubectl=("$kubectl_bin" "$@")
  local validate=${AKGUARD_KUBECTL_VALIDATE:-false}
  local monitoring=()
  if [ "${AKGUARD_APPLY_MONITORING:-0}" != 1 ]; then
    monitoring=(--set serviceMonitor.enabled=false --set prometheusRule.enabled=false)
  fi

  if [ -n "$(ls -A "$chart"/crds/*.yaml 2>/dev/null)" ]; then
    heading "apply the chart's CRDs"
    "${kubectl[@]}" apply --validate="$validate" --server-side -f "$chart/crds/"
  fi

  for values_file in "" "$chart"/ci/*-values.yaml; do
    name=$(basename "${values_file:-default}" .yaml)
    name=${name%-values}
    namespace="akguard-$name"
    heading "apply the chart rendered with $name values to namespace $namespace"
    helm template "ci-$name" "$chart" --namespace "$namespace" \
      ${values_file:+--values "$values_file"} "${monitoring[@]}" >"$work/apply-$name.yaml"
    # The release namespace and every namespace the manifests name must exist first.
    for target_namespace in $( (echo "$namespace" && sed -n 's/^  namespace: //p' "$work/apply-$name.yaml") | sort -u); do
      "${kubectl[@]}" create namespace "$target_namespace" --dry-run=client -o yaml \
        | "${kubectl[@]}" apply --validate="$validate" -f -
    done
    "${kubectl[@]}" apply --validate="$validate" -f "$work/apply-$name.yaml"
  done
}

main() {
  if [ "${1:-}" = apply-to-api-server ]; then
    shift
    tools
    apply_chart_to_api_server "$@"
    return
  fi

  local steps=("$@")
  if [ ${#steps[@]} -eq 0 ]; then
    steps=(crds chart invalid-values alerts hadolint static-binary argocd)
  fi
  tools

  local failed=() step
  for step in "${steps[@]}"; do
    case $step in
      crds | chart | invalid-values | alerts | hadolint | static-binary | argocd) ;;
      *)
        error "unknown step '$step'; steps: crds chart invalid-values alerts hadolint static-binary argocd"
        return 2
        ;;
    esac
    if ! "step_${step//-/_}"; then
      failed+=("$step")
    fi
  done

  if [ ${#failed[@]} -gt 0 ]; then
    error "packaging checks failed: ${failed[*]}; rerun one with: bash scripts/ci-packaging.sh STEP"
    return 1
  fi
  echo "packaging: all checks passed (${steps[*]})"
}

main "$@"
