# kpibot in a container: a build stage with Go and a C compiler (go-sqlite3
# is cgo), then a small Debian runtime with the binary alone.
#
#   docker build -t kpibot .
#   docker run -d --name kpibot -p 8080:8080 -v kpibot-data:/data \
#     --env-file kpibot.env kpibot
#
# The database lives in the /data volume (KPIBOT_DB); a config file can be
# mounted and named with KPIBOT_CONFIG. Secrets come from the environment
# (--env-file), never from the image. `docker stop` sends SIGTERM: serve
# stops accepting, finishes the requests and sends in flight, and exits.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/kpibot ./cmd/kpibot

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin kpibot \
 && mkdir -p /data && chown kpibot:kpibot /data
COPY --from=build /out/kpibot /usr/local/bin/kpibot
USER kpibot
WORKDIR /data
ENV KPIBOT_DB=/data/kpibot.db \
    KPIBOT_ADDR=:8080
VOLUME /data
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kpibot"]
CMD ["serve"]
