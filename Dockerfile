# creni-node container image: Debian 12 packages only, multi-stage, runs as a non-root user.
# Build:  docker build -t creni-node .
# Run:    docker run -p 11112:11112 -v $PWD/INPUT:/data/INPUT -v $PWD/OUTPUT:/data/OUTPUT creni-node
# The HTTP server (probes, /metrics, dashboard) listens on 127.0.0.1:11180 inside the container; to reach it from
# outside, listen on 0.0.0.0 with a token (see docker-compose-development.yml).

FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCRENI_BUILD_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" \
 && strip /build/src/app/creni-node

FROM debian:12-slim
# Runtime libraries only: the same DCMTK, OpenCV modules, SQLite, spdlog, toml++, cpp-httplib and prometheus-cpp
# the binary links; curl for the health check.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libdcmtk17 libopencv-core406 libopencv-imgproc406 libopencv-dnn406 libsqlite3-0 libspdlog1.10 \
      libtomlplusplus3 libssl3 libcpp-httplib0.11 libprometheus-cpp-core1.0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin creni \
 && mkdir -p /data/INPUT /data/OUTPUT /data/state && chown -R creni:creni /data
COPY --from=build /build/src/app/creni-node /usr/local/bin/creni-node
COPY conf/ /etc/creni-node/
USER creni
WORKDIR /data
EXPOSE 11112 11180
STOPSIGNAL SIGTERM
# Alive = the node's HTTP server answers /healthz (orchestrators that want "can take images" use /readyz).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS --max-time 2 http://127.0.0.1:11180/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/creni-node"]
CMD ["run", "--config", "/etc/creni-node/creni-node.toml"]
