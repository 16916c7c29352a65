# The README's two commands are `make run` (set up + start Kafka + sync topics) and `make test`.
PY ?= python3
export PATH := $(CURDIR)/.tools/bin:$(PATH)

.PHONY: install kafka-dist compose-bin strimzi-check browser prometheus prometheus-rules run test test-unit \
	test-docker lint format typecheck bench bench-deps ci clean \
	docker-install docker-engine docker-engine-stop docker-images

install:  ## Python package with dev tools, editable
	$(PY) -m pip install -q -e '.[dev]'

kafka-dist:  ## Kafka 3.9 + 4.x jars and Apicurio Registry into ~/.cache/dreamscape-infra (idempotent): the CLI's own fetch
	$(PY) -m dreamscape_infra runtime fetch --kafka all --schema-registry

compose-bin:  ## the real docker compose v2 binary into .tools/bin (idempotent)
	bash scripts/install-compose.sh

docker-install:  ## Debian's docker.io and debootstrap, when missing (CI; needs root and apt)
	@command -v dockerd >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap \
			>/dev/null; }

# The three below print only `export ...` lines on stdout: eval "$$(make -s docker-images)".
docker-engine:  ## a dockerd of our own (scripts/docker-engine.sh) unless a Docker daemon answers
	@bash scripts/docker-engine.sh start

docker-engine-stop:  ## stop the dockerd `docker-engine` started (never another daemon)
	@bash scripts/docker-engine.sh stop

docker-images:  ## CI's stand-in images (no registry needed); prints the variables that select them
	@bash scripts/docker-images.sh

strimzi-check:  ## Strimzi's model classes + the manifest check, compiled into ~/.cache (idempotent)
	bash scripts/strimzi-check.sh --build-only

browser:  ## Debian's chromium + chromium-driver for the console's browser tests (idempotent)
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; else \
		apt-get -o DPkg::Lock::Timeout=300 update && apt-get install -y -o DPkg::Lock::Timeout=300 chromium chromium-driver; fi

prometheus:  ## Debian's prometheus (prometheus + promtool) for the rules and Prometheus tests (idempotent)
	@if command -v prometheus >/dev/null && command -v promtool >/dev/null; then :; else \
	  apt-get -o DPkg::Lock::Timeout=300 update && \
	  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends prometheus; fi

prometheus-rules:  ## regenerate docs/prometheus/dreamscape-infra.rules.yml from topics.yaml
	$(PY) -m dreamscape_infra -f topics.yaml health rules > docs/prometheus/dreamscape-infra.rules.yml

run: install  ## set up everything and start Kafka with all topics (`up` fetches the Kafka it runs, 3.9)
	$(PY) -m dreamscape_infra up --runtime auto

test: install kafka-dist compose-bin strimzi-check browser prometheus  ## the whole test suite, real broker, compose and Docker engine included
	bash scripts/with-docker.sh $(PY) -m pytest

test-unit:
	$(PY) -m pytest -m "not kafka and not compose and not strimzi and not slow and not docker"

test-docker: install compose-bin  ## only the compose stack on a real engine (brought and stopped as in `make test`)
	bash scripts/with-docker.sh $(PY) -m pytest -m docker

lint:
	ruff check .
	ruff format --check .

format:
	ruff format .
	ruff check --fix .

typecheck:
	mypy

bench-deps:  ## kcat, the baseline of bench/kcat.py (only the bench needs it)
	command -v kcat >/dev/null || { apt-get update && apt-get install -y -o DPkg::Lock::Timeout=300 kcat; }

bench: install kafka-dist bench-deps
	$(PY) -m bench.run  ## results in bench/results.json, rendered into docs/benchmarks.md

ci: install kafka-dist compose-bin strimzi-check browser prometheus lint typecheck test

clean:
	rm -rf .state .tools build *.egg-info
