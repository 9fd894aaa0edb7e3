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
GO_TEST_FLAGS ?= -count=1 -timeout 30m
FUZZTIME ?= 5s

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the binaries into ./bin
	@mkdir -p $(BIN)
	cd shared && go build -o $(BIN)/promotion-gate ./cmd/promotion-gate
	cd shared && go build -o $(BIN)/promotion-gate-scan-report ./cmd/promotion-gate-scan-report

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_KEY ?=
IMAGE_PLATFORMS ?= linux/amd64,linux/arm64

.PHONY: images
images: ## OCI image layouts of flux-gate and the Argo CD sidecar in dist/images (amd64+arm64; IMAGE_KEY=key.pem signs them)
	cd test && go run ./cmd/promotion-gate-images build -root .. -out $(CURDIR)/dist/images \
		-platforms $(IMAGE_PLATFORMS) -version $(VERSION) $(if $(IMAGE_KEY),-key $(abspath $(IMAGE_KEY)))

.PHONY: envtest-assets
envtest-assets: ## build kube-apiserver and etcd (cached) and print KUBEBUILDER_ASSETS
	@bash hack/envtest-assets.sh

# Gitea, the real forge of the pull-request tests and the demo, built from the Go module
# proxy (about 3 minutes on 2 cores) into the cache when absent.
GITEA_VERSION := v1.27.3
GITEA_BIN := $(CACHE)/gitea/$(GITEA_VERSION)/gitea
export PROMOTION_GATE_GITEA_BIN := $(GITEA_BIN)

$(GITEA_BIN):
	GITEA_VERSION=$(GITEA_VERSION) bash hack/gitea.sh >/dev/null

.PHONY: gitea
gitea: $(GITEA_BIN) ## build the real Gitea of the pull-request tests and the demo (cached)
	@GITEA_VERSION=$(GITEA_VERSION) bash hack/gitea.sh >/dev/null # its templates: the module directory

.PHONY: unit
unit: gitea ## unit tests of every module (the forge tests run a real Gitea)
	@status=0; for m in $(MODULES); do (cd $$m && go test $(GO_TEST_FLAGS) ./...) || status=1; done; \
	(cd test/argocd-harness && GOWORK=off go test $(GO_TEST_FLAGS) ./...) || status=1; exit $$status

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 5s) after its seed corpus
	FUZZTIME=$(FUZZTIME) bash hack/fuzz.sh

.PHONY: vet
vet: ## go vet and gofmt on every module
	@for m in $(MODULES); do (cd $$m && go vet ./...); done
	@cd test/argocd-harness && GOWORK=off go vet ./...
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: lint
lint: vet ## static checks (go vet + gofmt)

.PHONY: argocd-harness
argocd-harness: ## build the real argocd-cmp-server and the repo-server stand-in (cached)
	@bash hack/argocd-harness.sh

# Every test needs these two caches; the first build prints its progress.
TEST_ENV = KUBEBUILDER_ASSETS=$$(bash hack/envtest-assets.sh); \
	PROMOTION_GATE_ARGOCD_BIN=$$(bash hack/argocd-harness.sh); \
	export KUBEBUILDER_ASSETS PROMOTION_GATE_ARGOCD_BIN;

.PHONY: test
test: vet gitea ## every test: unit, fuzz, envtest and end-to-end (README's test command)
	$(TEST_ENV) status=0; \
	for m in $(MODULES); do (cd $$m && go test $(GO_TEST_FLAGS) ./...) || status=1; done; \
	(cd test/argocd-harness && GOWORK=off go test $(GO_TEST_FLAGS) ./...) || status=1; \
	exit $$status
	$(MAKE) fuzz

.PHONY: e2e
e2e: gitea ## the tests against real parts only: envtest, gittestserver, argocd-cmp-server, Gitea
	$(TEST_ENV) (cd flux-gate && go test $(GO_TEST_FLAGS) ./internal/controller/...) && \
	(cd test && go test $(GO_TEST_FLAGS) ./...)

.PHONY: generate
generate: ## regenerate deepcopy, CRDs (ours and Flux's for tests), the plugin protocol and the charts' copies
	bash hack/flux-generate.sh
	bash hack/plugin-proto.sh
	bash hack/charts-sync.sh

.PHONY: bench-cmp
bench-cmp: ## argocd-promotion-gate generate vs kustomize build (| conftest test) and vs helm template (paired runs), and the render cache (warm, cold, monorepo): time and memory
	bash hack/bench-cmp.sh

.PHONY: bench-gate
bench-gate: ## flux-gate on envtest + gittestserver: promotion latency, CPU, memory, bytes fetched
	bash hack/flux-bench-gate.sh

.PHONY: bench
bench: ## Go benchmarks of the policy core (render vs render+evaluate)
	bash hack/bench.sh

.PHONY: cosign-example
cosign-example: ## docs/supply-chain.md's worked example with the real cosign (builds cosign once: ~10 min)
	bash hack/cosign-example.sh

.PHONY: demo
demo: build gitea ## the whole promotion story: Flux promotes a digest and holds :latest and an unsigned image until it is signed; Argo CD refuses them; on Gitea a person merges what the gate passed
	@bash hack/demo.sh
