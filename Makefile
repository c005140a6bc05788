# `make test` is the one test command; `make run` starts the idp with no configuration.
.PHONY: test run build vet

test:
	./.ci/test

run:
	go run ./cmd/idp

build:
	go build -o bin/idp ./cmd/idp

vet:
	go vet ./...
