# One image, two programs: the identity provider (idp, the default command)
# and the demo form application (formapp). Static binaries (no cgo: SQLite
# is the pure-Go modernc driver) on distroless, running as a non-root user.
#
#   docker build -t councilforms/idp:$(git describe --tags --always) .
#   docker run -p 8080:8080 councilforms/idp                      # idp, embedded mode
#   docker run -p 8081:8081 councilforms/idp /usr/local/bin/formapp
#
# docker-compose.yml runs both against PostgreSQL, Redis and Mailpit.

FROM golang:1.26 AS build
# go.mod needs Go 1.27.3 and the image's Go is older (and sets GOTOOLCHAIN=local): the
# go command fetches this exact toolchain from the Go module proxy, as it fetches the
# modules, and builds with it.
ENV GOTOOLCHAIN=go1.27.3
WORKDIR /src
COPY go.mod go.sum ./
RUN go version && go mod download
# The context includes .git (see .dockerignore): go build stamps the module version
# (the git tag, or a pseudo-version) and the commit into the binary, which
# `idp version` prints and idp_build_info reports.
COPY . .
ENV CGO_ENABLED=0
# -buildvcs=true: stamped even when a GOFLAGS says otherwise, and an error rather
# than a silent "(devel)" when git is missing.
RUN go build -buildvcs=true -trimpath -ldflags="-s -w" -o /out/idp ./cmd/idp \
 && go build -buildvcs=true -trimpath -ldflags="-s -w" -o /out/formapp ./cmd/formapp \
 && /out/idp version \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/idp /out/formapp /usr/local/bin/
# Embedded mode keeps its SQLite database in ./data; mount a volume here to keep it.
COPY --from=build --chown=nonroot:nonroot /out/data /home/nonroot/data
WORKDIR /home/nonroot
USER nonroot
# Inside a container both listen on every interface; publish the ports you need.
ENV IDP_ADDR=:8080 \
    FORMAPP_ADDR=:8081
EXPOSE 8080 8081
# No shell or curl in the image: the binary checks its own /healthz. The form app
# (same image, other command) sets its own: `formapp healthcheck`.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=6 \
  CMD ["/usr/local/bin/idp", "healthcheck"]
CMD ["/usr/local/bin/idp", "serve"]
