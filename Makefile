# promotion-gate — one Makefile for the workspace.
#
#   make demo     the main job (see README.md)
#   make test     every test: unit, fuzz seeds + a short fuzz run, envtest and the real
#                 argocd-cmp-server end-to-end tests; builds and caches what they need
#
# Long builds (kube-apiserver, etcd, argocd-cmp-server, tools) are cached outside the
# repository in $(CACHE), keyed by version, and rebuilt only when the cache is empty.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export PROMOTION_GATE_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/promotion-gate
CACHE := $(PROMOTION_GATE_CACHE)
BIN := $(CURDIR)/bin
MODULES := shared flux-gate argocd-plugin test
GO_TEST_FLAGS ?= -count=1
FUZZTIME ?= 5s

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the binaries into ./bin
	@mkdir -p $(BIN)
	cd shared && go build -o $(BIN)/promotion-gate ./cmd/promotion-gate

.PHONY: envtest-assets
envtest-assets: ## build kube-apiserver and etcd (cached) and print KUBEBUILDER_ASSETS
	@bash hack/envtest-assets.sh

.PHONY: unit
unit: ## unit tests of every module (no external parts)
	@for m in $(MODULES); do (cd $$m && go test $(GO_TEST_FLAGS) ./...); done

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 5s) after its seed corpus
	FUZZTIME=$(FUZZTIME) bash hack/fuzz.sh

.PHONY: vet
vet: ## go vet and gofmt on every module
	@for m in $(MODULES); do (cd $$m && go vet ./...); done
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: lint
lint: vet ## static checks (go vet + gofmt)

.PHONY: test
test: vet ## every test: unit, fuzz, envtest and end-to-end (README's test command)
	export KUBEBUILDER_ASSETS=$$(bash hack/envtest-assets.sh); \
	for m in $(MODULES); do (cd $$m && go test $(GO_TEST_FLAGS) ./...); done
	$(MAKE) fuzz

.PHONY: bench
bench: ## Go benchmarks of the policy core (render vs render+evaluate)
	bash hack/bench.sh

.PHONY: demo
demo: build ## check every example overlay and chart against the example policy
	bash hack/demo.sh
