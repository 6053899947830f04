# Two entry points: `make deploy` (ERPNext on this machine, inventories/local) and `make test` (everything).
# On a bare server without make: `./make deploy`, `./make test` (./make installs make, git and python3-venv first).
SHELL := /bin/bash
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: ee deploy test envdiff images-list matrix changelog fresh-host bare-deploy venv lint units molecule images benchmark benchmark-tuning benchmark-backup benchmark-upgrade benchmark-swarm docs clean

deploy:
	scripts/deploy.sh

test:
	tests/harness/run-tests.sh

# Every image an inventory pulls, by the *_image_archives variable that loads it on an air-gapped host
INVENTORY ?= inventories/local
images-list:
	@tests/harness/venv.sh requirements.txt >/dev/null
	@out=$$(ansible-playbook playbooks/images.yml -i $(INVENTORY) 2>&1) || { echo "$$out"; exit 1; }; \
	  echo "$$out" | awk '/^TASK \[Show the images/ { p = 1 } /^PLAY RECAP/ { p = 0 } p'

# ansible-test sanity and units on the oldest and the newest supported ansible-core, each in its own venv
matrix:
	tests/harness/matrix.sh

# Release the changelog fragments into changelogs/changelog.yaml and CHANGELOG.md for galaxy.yml's version
changelog: venv
	antsibull-changelog release --version "$$(sed -n 's/^version: //p' galaxy.yml)"

# The proofs that the README's commands work on a fresh machine (docs/testing.md); not part of `make test`
fresh-host:
	tests/harness/fresh-host.sh
bare-deploy:
	tests/harness/bare-deploy.sh

venv:
	tests/harness/venv.sh requirements-test.txt

lint: venv
	yamllint -s . && ansible-lint --profile production

units: venv
	PYTHONPATH=$(CURDIR)/collections pytest -q tests/unit tests/role_checks

images:
	tests/harness/images.sh

# The execution environment for AWX (execution-environment.yml, docs/awx.md); EE_BASE_IMAGE=IMAGE for another base
ee: venv
	scripts/build-ee.sh

SCENARIOS ?= default tls_multisite backup_restore monitoring upgrade development swarm
molecule: venv images
	for s in $(SCENARIOS); do tests/harness/molecule.sh $$s || exit 1; done

# BASELINE=REV: the same runs on a worktree of REV first, side by side
benchmark: venv images
	benchmarks/converge.sh $(BASELINE)

# MariaDB stock vs tuned drop-in (sysbench) and Redis with vs without AOF; figures only, not part of `make test`.
# empty: the drop-in the erpnext role renders for the benchmark's memory limit (benchmarks/render_cnf.py)
TUNED_CNF ?=
benchmark-tuning: venv images
	benchmarks/mariadb_tuning.sh $(TUNED_CNF)
	benchmarks/redis_aof.sh

# Backup and restore: Frappe's dump vs mariadb-backup, and restic bytes per day for three strategies; figures only.
# BENCH_DB_GB=0.2 for a quick run of about a minute (the default, 2, takes about 8 minutes)
BENCH_DB_GB ?= 2
benchmark-backup: venv images
	BENCH_DB_GB=$(BENCH_DB_GB) benchmarks/backup_restore.sh

# The maintenance window and the rollback of an upgrade of a BENCH_DB_GB GiB site (the upgrade scenario's target)
benchmark-upgrade: venv images
	BENCH_DB_GB=$(BENCH_DB_GB) benchmarks/upgrade.sh

# Throughput through Traefik with 1 and 3 backend tasks on the swarm scenario's three nodes, and failover times
benchmark-swarm: venv images
	benchmarks/swarm.sh

# The settings in which inventories/dev, staging and prod differ (they share inventories/shared/group_vars/all.yml)
envdiff: venv
	$(VENV)/bin/python scripts/envdiff.py

docs: venv  ## docs/inventory.md from the roles' argument specs and the schema
	$(VENV)/bin/python scripts/inventory-doc.py --write

clean:
	rm -rf $(VENV) .cache tests/output
