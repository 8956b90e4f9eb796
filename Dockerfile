# syntax=docker/dockerfile:1
# Image for the akguard operator: a static x86_64 musl binary on distroless/static.
#
# The final image has no shell and no package manager. distroless/static provides CA
# certificates (/etc/ssl/certs), time zone data (/usr/share/zoneinfo) and the "nonroot" user
# 65532, and the binary needs nothing else, so the root filesystem can be mounted read-only.
#
# Build: docker build -t akguard:dev .
# scripts/ci-packaging.sh runs the same cargo build command outside a container and fails
# when the command below changes without it.

FROM rust:1.95-bookworm AS build

# musl-gcc compiles the C and assembly parts of ring for the musl target. The version is
# pinned (hadolint DL3008) to bookworm's; when Debian replaces it, the install fails and the
# pin needs the version `apt-cache policy musl-tools` shows.
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl

WORKDIR /src
COPY . .

# The cache mounts keep downloaded crates and compiled dependencies between builds; the binary
# is copied out of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --target x86_64-unknown-linux-musl --package akguard --bin akguard \
    && install -D -m 0755 target/x86_64-unknown-linux-musl/release/akguard /out/akguard

FROM gcr.io/distroless/static-debian12:nonroot

LABEL org.opencontainers.image.title="akguard" \
      org.opencontainers.image.description="Kubernetes operator that rotates Huawei Cloud access keys and responds to leaked keys" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=build /out/akguard /usr/local/bin/akguard

# Numeric user and group, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 65532:65532
# 8080: /metrics. 8081: /healthz and /readyz.
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/akguard"]
CMD ["run"]
