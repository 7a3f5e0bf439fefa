# The two commands of the README: `make run` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AT ?=
PORT ?= 8000
DYNAMODB_PORT ?= 8001
STAGE ?= dev

.PHONY: run test lint bench package deploy venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'pip<26.3'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/campaign serve --port $(PORT) --dynamodb-port $(DYNAMODB_PORT) $(if $(AT),--at $(AT),)

# `make test` lints and type-checks first, then runs the suite: a lint, format or type error fails it.
test: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py

# `make package STAGE=dev`: the stage's CloudFormation (SAM) template, its DynamoDB table
# merged in, and the Lambda zip, in build/$(STAGE)/, linted by cfn-lint (warnings fail too).
# Needs AWS_DEFAULT_REGION in the shell and a pip index; no AWS credentials. docs/runbook.md
package: $(STAMP)
	$(BIN)/python tools/package.py --stage $(STAGE)

# `make deploy STAGE=dev BUCKET=<S3 bucket for the code>`: the AWS CLI uploads the zip and
# deploys stack campaign-platform-$(STAGE); PARAMS="Name=value ..." sets template parameters (docs/runbook.md).
deploy: package
	@test -n "$(BUCKET)" || { echo "make deploy: set BUCKET=<an S3 bucket in the stage's region>"; exit 2; }
	aws cloudformation package --use-json --template-file build/$(STAGE)/sam.json \
	  --s3-bucket $(BUCKET) --s3-prefix campaign-platform/$(STAGE) --output-template-file build/$(STAGE)/packaged.json
	aws cloudformation deploy --template-file build/$(STAGE)/packaged.json \
	  --stack-name campaign-platform-$(STAGE) --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
	  $(if $(PARAMS),--parameter-overrides $(PARAMS),)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
