# creni-node container image: Debian 12 packages only, multi-stage, non-root, read-only root file system friendly.
#   Build: docker build -t creni-node .      (podman: podman build --format docker -t creni-node .)
#   Run:   docker run -p 11112:11112 -v $PWD/INPUT:/data/INPUT -v $PWD/OUTPUT:/data/OUTPUT creni-node
#   Check: scripts/container-test.sh builds it and stores an image through it end to end.
# Everything the node writes is under /data (INPUT, OUTPUT, state); /tmp is only used by external AI modules.

FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh build \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCRENI_BUILD_TESTS=OFF -DCRENI_BUILD_BENCH=OFF \
 && cmake --build /build -j"$(nproc)" --target creni-node \
 && strip /build/src/app/creni-node
# The runtime is exactly what the binary links (ldd), DCMTK's data dictionaries and a static init: no package
# manager run in the final stage, so no recommends, no documentation, no compilers.
RUN mkdir -p /runtime/usr/local/bin /runtime/usr/share/libdcmtk17 /runtime/usr/bin \
 && cp /build/src/app/creni-node /runtime/usr/local/bin/ \
 && ldd /build/src/app/creni-node | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' \
      | xargs -I{} cp --parents -L {} /runtime/ \
 && cp /usr/share/libdcmtk17/*.dic /runtime/usr/share/libdcmtk17/ \
 && cp /usr/bin/tini-static /runtime/usr/bin/tini

FROM debian:12-slim
COPY --from=build /runtime/ /
COPY conf/creni-node.toml /etc/creni-node/creni-node.toml
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin creni \
 && mkdir -p /data/INPUT /data/OUTPUT /data/state && chown -R creni:creni /data \
 && /usr/local/bin/creni-node version
USER 10001:10001
WORKDIR /data
EXPOSE 11112 11180
VOLUME ["/data"]
# Liveness from the node's own HTTP endpoint (bash's /dev/tcp: no HTTP client in the image).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/11180 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
# tini is PID 1: it forwards SIGTERM to the node (which drains: no new associations or files, jobs in flight
# finish, the journal closes) and reaps any process an external AI module leaves behind.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/creni-node"]
CMD ["run", "--config", "/etc/creni-node/creni-node.toml"]
