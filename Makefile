# `make test` is the one test command; `make run` starts the idp with no configuration;
# `make vulncheck` runs govulncheck against a local copy of the Go vulnerability database.
.PHONY: test run build vet vulncheck

# The toolchain go.mod needs (go 1.27.3), whatever Go the machine has: an older go
# command fetches this one from the Go module proxy once and runs it. Exported, so the
# scripts below and the tests that run `go build`/`go install` themselves use it too.
export GOTOOLCHAIN := go1.27.3

test:
	./.ci/test

run:
	go run ./cmd/idp

build:
	go build -o bin/idp ./cmd/idp

vet:
	go vet ./...

vulncheck:
	./.ci/vulncheck
