# authok-edge. `make help` lists the targets.
GO          ?= go
MODULE      := github.com/authok-edge/authok
BIN         := bin/authok
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
VERSION     ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# make run passes these to `authok dev`, e.g. make run ARGS="--listen 127.0.0.1:9000"
ARGS        ?=
# The packages whose tests make test-boringcrypto runs a second time with
# GOEXPERIMENT=boringcrypto: every one that signs, verifies, hashes or seals.
BORING_PKGS := ./shared/tokens/ ./shared/keys/ ./shared/secretbox/ ./shared/directory/ \
               ./edge/token/ ./edge/discovery/ ./cmd/authok/
# boring_ok prints why GOEXPERIMENT=boringcrypto cannot use BoringCrypto here,
# or nothing when it can (cgo, a C compiler, linux/amd64 or linux/arm64).
boring_ok = cc=$$($(GO) env CC); goos=$$($(GO) env GOOS); goarch=$$($(GO) env GOARCH); \
	if [ "$$($(GO) env CGO_ENABLED)" != 1 ]; then echo "cgo is off (go env CGO_ENABLED)"; \
	elif ! command -v "$${cc%% *}" >/dev/null 2>&1; then echo "no C compiler ($$cc, go env CC)"; \
	elif [ "$$goos" != linux ] || { [ "$$goarch" != amd64 ] && [ "$$goarch" != arm64 ]; }; then \
		echo "BoringCrypto exists only for linux/amd64 and linux/arm64, not $$goos/$$goarch"; fi

.PHONY: help engine build build-boring run test test-short test-boringcrypto bench bench-crypto lint check-deps fmt check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

engine: ## build the JavaScript engine of Actions (goja for wasip1) that bin/authok embeds
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $(GO) build -buildmode=c-shared -trimpath -ldflags="-s -w" \
		-o actions-runtime/jsengine/dist/engine.wasm ./actions-runtime/jsengine/guest

build: engine ## build bin/authok: pure Go, static (CGO_ENABLED=0); why: docs/rationale.md
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/authok

build-boring: engine ## build bin/authok on BoringCrypto (cgo), else the pure-Go build, saying why
	@why=$$($(boring_ok)); \
	if [ -z "$$why" ]; then \
		echo "GOEXPERIMENT=boringcrypto $(GO) build -ldflags \"-X main.version=$(VERSION)\" -o $(BIN) ./cmd/authok"; \
		GOEXPERIMENT=boringcrypto $(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/authok; \
	else \
		echo "build-boring: $$why: building the pure-Go $(BIN) instead"; \
		$(MAKE) --no-print-directory build; \
	fi
	@"$$(dirname $(BIN))/$$(basename $(BIN))" version 2>/dev/null | grep '^crypto:' || true

run: engine build ## run everything in one process (authok dev) on 127.0.0.1:8080, data in ./data
	./$(BIN) dev $(ARGS)

test: check-deps engine ## run every test, under the race detector (what CI runs); ends with the slowest tests and each package's time
	$(GO) vet ./...
	@$(GO) build -o bin/testsummary ./internal/tools/testsummary
	bin/testsummary -go $(GO) -- -race -count=1 -timeout 20m ./...

test-boringcrypto: ## the crypto packages' tests again on BoringCrypto, under the race detector (needs cgo and a C compiler)
	@why=$$($(boring_ok)); [ -z "$$why" ] || { echo "test-boringcrypto: $$why"; exit 1; }
	GOEXPERIMENT=boringcrypto $(GO) test -race -count=1 -timeout 15m $(BORING_PKGS)

test-short: ## fast tests only (skips the process-level cluster tests)
	$(GO) test -short -count=1 ./...

bench: ## run the Go benchmarks (figures go in bench/README.md)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./shared/... ./edge/... ./control/...
	$(GO) test -run '^$$' -bench Failover -benchtime 20x ./shared/store/

bench-crypto: ## the token path on Go crypto and on BoringCrypto side by side (bench/boringcrypto.sh)
	bench/boringcrypto.sh

# Packages built only for GOOS=wasip1 (most of their code is reached only
# from //go:build wasip1 files): linted for that target, not the host's.
WASIP1_PKGS := ./actions-runtime/jsengine/guest

lint: ## go vet and staticcheck (installed on demand); wasip1-only packages linted for wasip1
	$(GO) vet ./...
	@GOBIN=$(CURDIR)/bin $(GO) install $(STATICCHECK)
	bin/staticcheck $$($(GO) list ./... | grep -v -x -F $(foreach p,$(WASIP1_PKGS),-e $(MODULE)/$(patsubst ./%,%,$(p))))
	@# U1000 off there: staticcheck does not count //go:wasmexport functions as used.
	GOOS=wasip1 GOARCH=wasm bin/staticcheck -checks "inherit,-U1000" $(WASIP1_PKGS)

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
