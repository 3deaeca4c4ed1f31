# Fast Autoscaler — every entry point. On a fresh machine:
#   make demo   # the main job: a local surge, scaled out and back in
#   make test   # every test
# Both install what they need (Python tools into .venv) on first use.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
VENV_STAMP := $(VENV)/.installed
CARGO ?= cargo
# The Lambda architecture: arm64 in production; this build machine makes x86_64.
ARCH ?= arm64

.PHONY: all venv test lint demo bench clean

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

# Every test: unit, integration against moto, Lambda binaries under cargo-lambda.
# The integration tests run the Lambda and CLI binaries, which `cargo test` alone does
# not build for another package, so build them first.
test: venv
	$(CARGO) build --workspace --bins --locked
	$(CARGO) test --workspace --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# Provisions a local emulator and shows a service scaling out and back in, tick by tick.
demo: venv
	$(CARGO) run --locked --quiet -p fast-autoscaler-tests --bin demo

# Tick latency and AWS calls per tick for 1, 10 and 100 services, against moto.
bench: venv
	$(CARGO) run --locked --release --quiet -p fast-autoscaler-tests --bin bench

clean:
	$(CARGO) clean
	rm -rf $(VENV)
