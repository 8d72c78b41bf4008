# ModelGate on Debian 12: build stage, then a slim runtime image running as an
# unprivileged user with /data (SQLite file, master key, log spill) as a volume.
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libpistache-dev libsoci-dev libpq-dev libsqlite3-dev \
      libboost-dev nlohmann-json3-dev libzip-dev libcurl4-openssl-dev libssl-dev libgoogle-perftools-dev \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt schema.sql ./
COPY core core
COPY sdk sdk
COPY providers providers
COPY plugins plugins
COPY locales locales
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMODELGATE_BUILD_TESTS=OFF \
 && cmake --build build -j"$(nproc)" \
 && cmake --install build --prefix /opt/modelgate --component runtime

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpistache0 libsoci-core4.0 libsoci-postgresql4.0 libsoci-sqlite3-4.0 libcurl4 libssl3 libtcmalloc-minimal4 \
      ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /data --shell /usr/sbin/nologin modelgate \
 && mkdir -p /data && chown modelgate:modelgate /data
COPY --from=build /opt/modelgate /opt/modelgate
ENV MODELGATE_DATA_DIR=/data \
    MODELGATE_PLUGIN_DIR=/opt/modelgate/lib/modelgate/plugins \
    MODELGATE_LOCALES_DIR=/opt/modelgate/share/modelgate/locales \
    PORT=8765
USER modelgate
VOLUME /data
EXPOSE 8765
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/modelgate/bin/modelgate"]
