# berth: rt (OCI runtime), shim (per-container monitor), mgr (manager).
# `make help` lists the targets.

PREFIX      ?= /usr/local
GO          ?= go
GOFLAGS_BUILD ?= -trimpath
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
BIN         := bin
TEST_TIMEOUT ?= 20m
# seccomp: libcontainer's seccomp support (cgo + libseccomp) is behind this tag.
# runcpatch: rt is built against runc with runtime/patches applied (compiled
# seccomp filters; see runtime/patches/README.md), through RT_MODFILE.
# urfave_cli_no_docs drops urfave/cli's man/markdown generators (and their
# package init); netgo/osusergo keep glibc's NSS out of the static rt.
RT_TAGS     ?= seccomp runcpatch urfave_cli_no_docs netgo osusergo
RUNC_PATCHED := $(BIN)/.runc-patched
RT_MODFILE  := $(RUNC_PATCHED)/go.mod
MGR_TAGS    ?= urfave_cli_no_docs

export PATH := $(PATH):/usr/local/go/bin
export CGO_ENABLED := 1

.PHONY: help build install setup test test-unit test-integration conformance bench lint clean

help: ## list the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: $(RT_MODFILE) ## build bin/rt, bin/shim and bin/mgr
	# rt and mgr run several times per container start: static binaries skip
	# the dynamic loader (~0.5 ms per rt exec, ~1.5 ms per mgr command; rt
	# links libseccomp statically, as runc's releases do)
	$(GO) build $(GOFLAGS_BUILD) -modfile $(RT_MODFILE) -tags '$(RT_TAGS)' -ldflags '$(LDFLAGS) -extldflags -static' -o $(BIN)/rt ./runtime/cmd/rt
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -tags '$(MGR_TAGS)' -ldflags '$(LDFLAGS)' -o $(BIN)/mgr ./manager/cmd/mgr
	# static (no cgo): libc's mappings would cost the shim ~1.7 MB of RSS
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -ldflags '$(LDFLAGS)' -o $(BIN)/shim ./shim/cmd/shim

install: build ## install the binaries into $(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN)/rt $(DESTDIR)$(PREFIX)/bin/rt
	install -m 0755 $(BIN)/shim $(DESTDIR)$(PREFIX)/bin/shim
	install -m 0755 $(BIN)/mgr $(DESTDIR)$(PREFIX)/bin/mgr

setup: ## install system deps and CNI plugins, build, make and load the busybox image (root, idempotent)
	hack/setup.sh

test: setup lint test-unit test-integration conformance ## the whole suite (what CI runs): setup, lint, unit, integration, OCI conformance

test-unit: $(RT_MODFILE) ## unit tests (no root needed; root-only cases skip)
	$(GO) test -count=1 ./...
	# runtime/ again as rt is built: patched runc, seccomp (cgo)
	$(GO) test -count=1 -modfile $(RT_MODFILE) -tags 'seccomp runcpatch' ./runtime/...

test-integration: build ## integration tests with real containers (root)
	$(GO) test -count=1 -tags integration -timeout $(TEST_TIMEOUT) ./test/...

conformance: build ## OCI runtime-tools validation suite against bin/rt and runc
	hack/conformance.sh

bench: ## benchmarks side by side with the peers (runc, crun, conmon, podman, buildah, skopeo+umoci), as ratios
	hack/setup.sh --bench
	hack/bench.sh

lint: $(RT_MODFILE) ## gofmt and go vet
	@out=$$(gofmt -l $$(find . \( -path ./_output -o -path ./bin \) -prune -o -name '*.go' -print)); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -modfile $(RT_MODFILE) -tags 'seccomp runcpatch' ./runtime/...
	$(GO) vet -tags integration ./test/...

# the patched runc module rt builds against (runtime/patches/README.md)
$(RT_MODFILE): go.mod go.sum hack/runc-patched.sh $(wildcard runtime/patches/*.patch)
	GO=$(GO) hack/runc-patched.sh $(RUNC_PATCHED)

clean: ## remove build output
	[ ! -d $(RUNC_PATCHED) ] || chmod -R u+w $(RUNC_PATCHED)
	rm -rf $(BIN) _output
