# dnsproxy container image (SPEC section 7, docs/CONTAINER.md).
#
#   docker build -t dnsovertls:proxy .
#   docker run --name dnsovertls -p 53:53/udp -p 53:53/tcp -p 127.0.0.1:8053:8053 \
#       -v dnsproxy-data:/var/lib/dnsproxy -d dnsovertls:proxy
#
# Stage 1 builds the dnsproxy target only (no test runners); stage 2 is debian:bookworm-slim
# with the shared libraries that binary links against, ca-certificates, the binary and the
# configuration. Tested with podman by scripts/container-test.

FROM debian:bookworm-slim AS build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake g++ make pkg-config libpoco-dev libssl-dev libsqlite3-dev libnghttp2-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DDNSPROXY_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" --target dnsproxy \
 && mkdir /out \
 && install -m 0755 -s /build/dnsproxy /out/dnsproxy

# The runtime packages are the ones owning the libraries the binary really links against
# (ldd), so the image follows the code when it starts using another library (e.g. PocoData).
RUN ldd /out/dnsproxy | awk '$3 ~ /^\// { print $3 }' \
    | while read -r lib; do dpkg -S "*/$(basename "$lib")"; done \
    | cut -d: -f1 | sort -u >/out/runtime-packages \
 && echo "runtime packages:" $(cat /out/runtime-packages)

# The container configuration is etc/dnsproxy.ini with two changes: DNS on 0.0.0.0:53 and the
# admin API on 0.0.0.0:8053 (publish 8053 on 127.0.0.1 only). The build fails if the
# substitutions no longer apply (and, in the runtime stage, if the result is not valid).
RUN { echo "; Container image: etc/dnsproxy.ini with [server] listen and [admin] listen on 0.0.0.0 (Dockerfile)."; \
      sed -e '/^\[server\]/,/^\[/ s/^listen = .*/listen = 0.0.0.0:53/' \
          -e '/^\[admin\]/,/^\[/ s/^listen = .*/listen = 0.0.0.0:8053/' etc/dnsproxy.ini; } >/out/dnsproxy.ini \
 && test "$(diff etc/dnsproxy.ini /out/dnsproxy.ini | grep -c '^>')" = 3


FROM debian:bookworm-slim

LABEL org.opencontainers.image.title="dnsproxy" \
      org.opencontainers.image.description="DNS-over-TLS forwarding proxy: plain DNS in on UDP and TCP, authenticated TLS out"

# libcap2-bin (setcap/getcap, 100 kB) stays: purging it in a later layer would add more to the
# image (copied-up dpkg database) than it removes.
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $(cat /tmp/runtime-packages) ca-certificates libcap2-bin \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log /tmp/runtime-packages \
 && groupadd --system --gid 10053 dnsproxy \
 && useradd --system --uid 10053 --gid dnsproxy --home-dir /var/lib/dnsproxy --no-create-home \
      --shell /usr/sbin/nologin dnsproxy \
 && install -d -o dnsproxy -g dnsproxy -m 0750 /var/lib/dnsproxy

COPY --from=build /out/dnsproxy /usr/local/bin/dnsproxy
COPY --from=build /out/dnsproxy.ini /etc/dnsproxy/dnsproxy.ini

# File capability so the non-root user binds port 53 even where the runtime does not set
# net.ipv4.ip_unprivileged_port_start=0 (podman). Set here rather than in the build stage
# because COPY does not reliably keep the security.capability xattr (moby/moby#20435).
RUN setcap cap_net_bind_service=+ep /usr/local/bin/dnsproxy \
 && setcap -v cap_net_bind_service=+ep /usr/local/bin/dnsproxy \
 && ! ldd /usr/local/bin/dnsproxy | grep 'not found' \
 && /usr/local/bin/dnsproxy --config=/etc/dnsproxy/dnsproxy.ini --check-config >/tmp/check-config.txt \
 && grep -q '^listen = 0.0.0.0:53$' /tmp/check-config.txt \
 && grep -q '^listen = 0.0.0.0:8053$' /tmp/check-config.txt \
 && rm /tmp/check-config.txt

USER 10053:10053
WORKDIR /var/lib/dnsproxy
VOLUME /var/lib/dnsproxy
EXPOSE 53/udp 53/tcp 853/tcp 443/tcp 8053/tcp

# dnsproxy --health reads the same configuration as the proxy and asks that instance: GET /health
# on [admin] listen wherever it is, or one DNS message to the first [server] listen address when
# the admin API is off. Healthy = serving (a /health answer, 200 or 503, or a DNS answer); add
# --ready to also require a usable upstream. -D options given to `docker run` are not seen here:
# put such changes in the mounted ini.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/dnsproxy", "--health", "--config=/etc/dnsproxy/dnsproxy.ini"]

# Exec form: dnsproxy is PID 1 and gets SIGTERM from docker stop directly (it flushes the
# cache and exits 0). Arguments given to docker run replace CMD; without --config the binary
# still reads /etc/dnsproxy/dnsproxy.ini, so "docker run IMAGE -D upstream.servers=..." works.
ENTRYPOINT ["/usr/local/bin/dnsproxy"]
CMD ["--config=/etc/dnsproxy/dnsproxy.ini"]
