# Fast Autoscaler — every entry point. On a fresh machine:
#   make demo   # the main job: a local surge, scaled out and back in
#   make test   # every test
# Both install what they need (Python tools into .venv) on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CARGO ?= cargo
# cargo-lambda and the zig linker it uses live in the venv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# The Lambda architecture: arm64 (Graviton) in production. Building arm64 needs a
# host or CI runner with the aarch64-unknown-linux-gnu Rust target; on an x86_64
# host without it, use ARCH=x86_64.
ARCH ?= arm64
HOST_ARCH := $(shell uname -m | sed 's/aarch64/arm64/')
STAGE ?= dev
SLS := SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off node_modules/.bin/serverless

BROKER_PACKAGES := rabbitmq-server activemq libxstream-java libjettison-java openssl default-jre-headless nats-server redis-server

.PHONY: all venv node brokers test lint demo bench reliability chaos lambda-zips package deploy clean

all: test

# Python tooling (moto, cargo-lambda) in a project venv; nothing global.
venv: $(VENV_STAMP)

$(VENV_STAMP): requirements-dev.txt
	@if ! python3 -m venv --help >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv python3-pip; \
	  else echo "python3 with the venv module is required (Debian: apt-get install python3-venv)"; exit 1; fi; \
	fi
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# osls, the open-source continuation of the Serverless Framework v3 (pinned in
# package.json / package-lock.json), locally.
node: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Real RabbitMQ and ActiveMQ (the amq provider), nats-server and redis-server (the
# nats and redis providers) for the tests, from Debian's packages.
# Installed only (never started: each test starts private instances on 127.0.0.1).
brokers:
	@missing=""; for p in $(BROKER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else echo "brokers missing:$$missing (as root: apt-get install$$missing); their tests skip outside CI and fail in CI"; fi; \
	fi

# Every test: unit, integration against moto, Lambda binaries under cargo-lambda,
# the packaged CloudFormation template. The tests run the Lambda and CLI binaries,
# which `cargo test` alone does not build for another package, so build them first,
# and the real Lambda zips for this host's architecture.
test: venv node brokers
	$(MAKE) lambda-zips ARCH=$(HOST_ARCH)
	$(CARGO) build --workspace --bins --locked
	$(CARGO) test --workspace --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	# An SQS-only worker scaling ECS services links no other provider or target kind.
	$(CARGO) check --locked -p fast-autoscaler-worker --no-default-features --features sqs,ecs
	# No two modules of a crate import each other.
	python3 .ci/module_cycles.py $(wildcard */src providers/*/src targets/*/src)
	# The core and the simulator link nothing of AWS, tokio, Lambda or a broker.
	@for crate in fast-autoscaler-core fast-autoscaler-simulator; do \
	  tree=$$($(CARGO) tree --locked -p $$crate -e normal,build,dev --prefix none); \
	  found=$$(echo "$$tree" | grep -E '^(aws[-_]|tokio|lambda|amqprs|redis |async-nats|reqwest|rustls|hyper)' | sort -u || true); \
	  if [ -n "$$found" ]; then echo "$$crate must stay pure, but links:"; echo "$$found"; exit 1; fi; \
	  echo "$$crate links no AWS, tokio, Lambda or broker crate"; \
	done

# One surge, the original step rule and the recommended policy side by side, against
# a local emulator; the decision lines go to target/demo/decisions.jsonl.
demo: venv
	$(CARGO) run --locked --quiet -p fast-autoscaler-lab --bin demo

# Every performance figure (see lab/src/bin/bench): the simulator's tables, the worker's
# cost at scale, tick latency and AWS calls per tick against moto, and the Lambda
# zips' sizes and cold starts (so the zips for this host are built first).
bench: venv
	$(MAKE) lambda-zips ARCH=$(HOST_ARCH)
	$(CARGO) run --locked --release --quiet -p fast-autoscaler-lab --bin bench

# The fault-injection soak: TICKS ticks (default 1000) against moto with FAULT_RATE
# (default 0.2) of the autoscaler's AWS calls faulted; prints the figures, exits 1
# on any wrong action or corrupt state. A debug build: the soak's time is moto's.
TICKS ?= 1000
FAULT_RATE ?= 0.2
reliability: venv
	$(CARGO) run --locked --quiet -p fast-autoscaler-lab --bin soak -- --ticks $(TICKS) --fault-rate $(FAULT_RATE)

# Worker processes killed with SIGKILL at random moments: ROUNDS rounds (default
# 200) of eight `fast-autoscaler run --once` against moto, KILL_RATE (default 0.3)
# of them killed; prints the figures, exits 1 on a double action, a lost decision
# or a corrupt state. The binaries are built first: the rounds run the CLI.
ROUNDS ?= 200
KILL_RATE ?= 0.3
chaos: venv
	$(CARGO) build --locked --quiet -p fast-autoscaler-cli
	$(CARGO) run --locked --quiet -p fast-autoscaler-lab --bin chaos -- --rounds $(ROUNDS) --kill-rate $(KILL_RATE)

# target/lambda/{scheduler,worker}/bootstrap.zip for ARCH.
lambda-zips: venv
	cargo-lambda lambda build --release --locked --output-format zip \
	  $(if $(filter arm64,$(ARCH)),--arm64,--x86-64) --bin scheduler --bin worker
	@ls -l target/lambda/*/bootstrap.zip

# Build the zips and the CloudFormation template, offline (.serverless/).
# Stage parameters: STAGE=prod, and PARAMS='--param="ecsClusterName=prod" ...'.
package: venv node lambda-zips
	$(SLS) package --stage $(STAGE) --param="architecture=$(ARCH)" $(PARAMS)

deploy: package
	$(SLS) deploy --stage $(STAGE) --package .serverless --param="architecture=$(ARCH)" $(PARAMS)

clean:
	$(CARGO) clean
	rm -rf $(VENV) node_modules .serverless
