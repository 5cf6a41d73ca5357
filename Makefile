# Two commands after cloning: `make demo` and `make test`. Each builds .venv from nothing the first time.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench lint up down clean package deploy doctor rotate-secret

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet --constraint requirements.lock --editable '.[render,local,dev]'
	touch $(STAMP)

# osls (the open fork of Serverless Framework v3) packages and deploys infra/serverless.yml.
OSLS := infra/node_modules/.bin/osls
$(OSLS): infra/package.json infra/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to install osls (Node.js 20 or newer)"; exit 1; }
	npm ci --prefix infra --no-audit --no-fund --loglevel=error
	touch $(OSLS)

STAGE ?= dev

demo: $(STAMP)
	$(VENV)/bin/studiobot demo

test: $(STAMP) $(OSLS) lint
	$(PY) -m pytest

# The CloudFormation template and zips in infra/.serverless/, offline (no AWS account needed).
package: $(STAMP) $(OSLS)
	$(PY) -m local.deployer.deploy package $(STAGE)

# The real deployment (README "Deploy to AWS"): needs AWS credentials, Docker and the Slack secrets in SSM.
# `studiobot doctor` runs first and nothing changes when it finds a blocking ✗.
deploy: $(STAMP) $(OSLS)
	$(PY) -m local.deployer.deploy deploy $(STAGE)

# The same read-only checks alone, e.g. after a deploy: `make doctor STAGE=prod PARAMS="opsChannel=C0123ABCD"`.
doctor: $(STAMP)
	$(VENV)/bin/studiobot doctor --stage $(STAGE) $(foreach param,$(PARAMS),--param $(param))

# A new Slack signing secret or bot token (README "Deploy to AWS"): asked for, put under the stage's key, and the
# functions that read it restarted. SECRET=slack-signing-secret (default) or slack-bot-token.
SECRET ?= slack-signing-secret
rotate-secret: $(STAMP)
	$(PY) -m local.deployer.secrets rotate $(STAGE) $(SECRET)

# The package benchmark needs osls: installed here when npm is on the machine, else that benchmark says it skipped.
bench: $(STAMP)
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(OSLS); \
	else echo "npm is not installed: the package benchmark will be skipped (it needs osls)"; fi
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check backend blender_image bot local tests bench entry testing
	$(VENV)/bin/ruff format --check backend blender_image bot local tests bench entry testing
	$(VENV)/bin/mypy backend blender_image local bot bench entry testing

# `make up BLENDER=4.5,5.0`: a worker pool per Blender (4.5 LTS is installed once in .venvs/, with a progress bar).
BLENDER ?= 5.0
up: $(STAMP)
	$(VENV)/bin/studiobot up --blender $(BLENDER)

down: $(STAMP)
	$(VENV)/bin/studiobot down

clean:
	rm -rf $(VENV) .studiobot renders bench/results .pytest_cache .mypy_cache .ruff_cache \
		infra/node_modules infra/.build infra/.serverless
