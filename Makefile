# authok-edge. `make help` lists the targets.
GO          ?= go
MODULE      := github.com/authok-edge/authok
BIN         := bin/authok
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# make run passes these to `authok dev`, e.g. make run ARGS="--listen 127.0.0.1:9000"
ARGS        ?=

.PHONY: help build run test test-short bench lint check-deps fmt check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/authok
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/authok

run: build ## run everything in one process (authok dev) on 127.0.0.1:8080, data in ./data
	./$(BIN) dev $(ARGS)

test: check-deps ## run every test, under the race detector (what CI runs); ends with the slowest tests and each package's time
	$(GO) vet ./...
	@$(GO) build -o bin/testsummary ./internal/tools/testsummary
	bin/testsummary -go $(GO) -- -race -count=1 -timeout 20m ./...

test-short: ## fast tests only (skips the process-level cluster tests)
	$(GO) test -short -count=1 ./...

bench: ## run the Go benchmarks (figures go in bench/README.md)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./shared/... ./edge/... ./control/...
	$(GO) test -run '^$$' -bench Failover -benchtime 20x ./shared/store/

lint: ## go vet and staticcheck (installed on demand)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

check-deps: ## edge and control never import each other; shared and actions-runtime import neither
	@fail=0; \
	check() { \
		pkgs=$$($(GO) list $$1 2>/dev/null) || return 0; [ -n "$$pkgs" ] || return 0; \
		bad=$$($(GO) list -deps -test -f '{{.ImportPath}}' $$1 | grep -E "^$(MODULE)/($$2)(/|$$)" || true); \
		if [ -n "$$bad" ]; then echo "check-deps: $$1 must not import $$2, but depends on:"; echo "$$bad" | sed 's/^/  /'; fail=1; fi; \
	}; \
	check ./edge/... control; \
	check ./control/... edge; \
	check ./shared/... 'edge|control|cmd'; \
	check ./actions-runtime/... 'edge|control|cmd'; \
	[ $$fail -eq 0 ] && echo "check-deps: ok"; exit $$fail

fmt: ## gofmt every file
	gofmt -w $$(git ls-files '*.go')

check: ## format check, lint, dependency rules and tests
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(MAKE) lint test

clean: ## remove build output (not ./data)
	rm -rf bin
