# lvsfleet: the two commands are `make demo` (main job on the built-in lab) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# The built-in lab: its inventory and its own roles (lab/roles); ansible.cfg names neither.
export ANSIBLE_INVENTORY := $(CURDIR)/inventory/lab
export ANSIBLE_ROLES_PATH := $(CURDIR)/lab/roles
# The lab's vault (VRRP auth): absolute, so molecule and testinfra find it from any directory.
export ANSIBLE_VAULT_IDENTITY_LIST := lab@$(CURDIR)/inventory/lab-vault-password.lab
# Lab runs use Mitogen's strategy (README, "Speed"): one Python interpreter per guest for the whole run instead
# of one per task, about 7 times faster on emulated guests. LAB_STRATEGY=linear runs everything with
# ansible-core's own strategy instead. ansible-core deprecates every strategy it does not ship and says so on
# each run; that one notice is silenced here, and the no-op site.yml at -vvv (molecule default) runs with
# deprecation warnings on and allows only that notice, so a deprecation in lvsfleet's own content still fails.
LAB_STRATEGY ?= mitogen
ifeq ($(LAB_STRATEGY),mitogen)
export ANSIBLE_STRATEGY_PLUGINS := $(CURDIR)/$(VENV)/mitogen-strategy
export ANSIBLE_STRATEGY := mitogen_linear
export ANSIBLE_DEPRECATION_WARNINGS := False
endif
# Scenarios live in molecule/ (in a collection root molecule would look in extensions/molecule/).
export MOLECULE_GLOB := molecule/*/molecule.yml
# Host packages: QEMU (TCG), image tools, what the venv needs, and keepalived (verify.yml tests every
# director's rendered configuration with it on the controller, in a private network namespace); libssh-gcrypt-4 is
# the one library the venv's bird (target bird) links that a plain Debian 12 lacks.
APT_PACKAGES := qemu-system-x86 qemu-utils mmdebstrap e2fsprogs cpio busybox-static xz-utils \
	openssh-client iproute2 python3 python3-venv ca-certificates keepalived util-linux chromium gcc libc6-dev \
	libssh-gcrypt-4
MOLECULE_SCENARIOS := default reload ipvs bootstrap clientside adopt
# Drills: long or destructive, run by `make drills` (not by `make test`).
DRILL_SCENARIOS := rolling health
# Where the time goes (tests/tools/stage_times.py): each stage's wall time and share, and each lab test's.
TIMES := build/test-times.json
DRILL_TIMES := build/drill-times.json
STAGE = $(PY) tests/tools/stage_times.py
# The lab's pytest runs record each test's duration there too (molecule/resources/labtimes.py).
LABTIMES = PYTHONPATH=$(CURDIR)/molecule/resources PYTEST_ADDOPTS="-p labtimes"
DEMO_VIP := 198.51.100.10:80
# The anycast lab's VIP (inventory/lab-ecmp).
ECMP_VIP := 203.0.113.50:80
# The client balances this VIP itself (role client_side, inventory/lab/group_vars/client_side).
CLIENT_SIDE_VIP := 192.0.2.10:80

.PHONY: setup apt venv promtool bird docs-keys ee demo demo-ecmp demo-client-side test check lint unit units sanity sanity-changed molecule scenario drills lab-up lab-down lab-status converge bench bench-playbooks bench-scale clean

setup: apt venv promtool bird

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# ansible.posix (galaxy.yml's dependency), from the hash-pinned `ansible` bundle on PyPI: no Galaxy here.
POSIX_MANIFEST := .collections/ansible_collections/ansible/posix/MANIFEST.json

venv: $(VENV)/.installed $(POSIX_MANIFEST)

$(POSIX_MANIFEST): requirements-collections.txt galaxy.yml | $(VENV)/.installed
	$(PY) tools/install_collections.py
	touch $@

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	@# Mitogen's strategy plugins at a path that does not depend on the venv's Python version.
	ln -sfn "$$($(VENV)/bin/python -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')/plugins/strategy" \
	  $(VENV)/mitogen-strategy
	touch $@

# promtool (alert rule tests) from Debian's prometheus package, unpacked into the venv: installing the
# package would also start a Prometheus server on this host.
promtool: $(VENV)/bin/promtool

$(VENV)/bin/promtool: | $(VENV)/.installed
	@set -e; d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; cd "$$d"; \
	apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus; }; \
	dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool; \
	install -m 0755 usr/bin/promtool $(CURDIR)/$@
	$@ --version | head -n 1

# bird (BIRD 2, verify.yml tests every anycast director's rendered bird.conf with `bird -p` on the controller) from
# Debian's bird2 package, unpacked into the venv the same way: installing the package would start a BGP daemon on
# this host. It links libc and libssh-gcrypt-4 (APT_PACKAGES).
bird: $(VENV)/bin/bird

$(VENV)/bin/bird: | $(VENV)/.installed
	@set -e; d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; cd "$$d"; \
	apt-get download bird2 >/dev/null 2>&1 || { apt-get update -qq && apt-get download bird2; }; \
	dpkg-deb --fsys-tarfile bird2_*.deb | tar -x ./usr/sbin/bird; \
	install -m 0755 usr/sbin/bird $(CURDIR)/$@
	$@ --version 2>&1 | head -n 1

lab-up: setup
	$(PY) lab/lab.py up

lab-down:
	@if [ -x $(PY) ]; then $(PY) lab/lab.py down; fi

lab-status:
	$(PY) lab/lab.py status

converge: lab-up
	ansible-playbook lab/site.yml

# The main job: build or reuse the image, boot the lab, deploy, send 100 requests through the VIP.
demo: converge
	$(PY) lab/lab.py probe $(DEMO_VIP) 100 | tail -n 1

# Anycast: boot the anycast lab (three directors behind a BGP router, LVSFLEET_LAB=ecmp), deploy it, send 100
# requests to the VIP through the router; each director's share comes from its own IPVS counters.
demo-ecmp: setup
	LVSFLEET_LAB=ecmp $(PY) lab/lab.py up
	LVSFLEET_LAB=ecmp ansible-playbook -i inventory/lab-ecmp lab/site.yml
	LVSFLEET_LAB=ecmp $(PY) lab/lab.py ecmp-demo $(ECMP_VIP) 100 | tail -n 1

# Client-side balancing: deploy the lab (the client balances its own VIP), stop keepalived on both
# directors, send 100 requests from the client's own processes, start keepalived again.
demo-client-side: converge
	$(PY) lab/lab.py client-side-demo $(CLIENT_SIDE_VIP) 100 | tail -n 1

lint: venv
	yamllint .
	ansible-lint --offline
	$(PY) tools/gen_key_tables.py --check

# docs/inventory-keys.md from the schema (plugins/module_utils/lvsfleet/schema.py); `make lint` fails when stale.
docs-keys: venv
	$(PY) tools/gen_key_tables.py

unit: setup
	python -m pytest -q -p no:cacheprovider tests/unit

# ansible-test sanity on the collection as it ships (not in `make test`, see the README): built, installed
# under build/sanity/ansible_collections, each test in a virtual environment of its own (--venv).
# ansible-test bootstraps pip there with a script it downloads from a host this network does not reach;
# tests/tools/get_pip_offline.py stands in for it (pip from the interpreter's ensurepip, then the pinned pip
# from the package index).
SANITY_PIP := $(HOME)/.ansible/test/cache/get_pip_24_2.py
# The controller Python the sanity tests run under (3.11: Debian 12; 3.12 and 3.13 where installed).
SANITY_PYTHON ?= 3.11
# The execution environment's build context (execution-environment.yml): the collection tarball, then
# ansible-builder create. Build the image from build/ee/context with podman where one runs.
ee: venv
	rm -rf build/ee && mkdir -p build/ee
	ansible-galaxy collection build --output-path build/ee .
	mv build/ee/lvsfleet-lvs-*.tar.gz build/ee/lvsfleet-lvs.tar.gz
	ansible-builder create -f execution-environment.yml -c build/ee/context --output-filename Containerfile

sanity: venv
	rm -rf build/sanity build/dist
	ansible-galaxy collection build --output-path build/dist .
	@# Its dependency ansible.posix as `make venv` installed it (no Galaxy here; --offline finds it installed).
	mkdir -p build/sanity/ansible_collections/ansible && cp -a $(dir $(POSIX_MANIFEST)) build/sanity/ansible_collections/ansible/
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/sanity \
	  ansible-galaxy collection install --offline -p build/sanity build/dist/lvsfleet-lvs-*.tar.gz
	@[ -f $(SANITY_PIP) ] || install -D -m 0644 tests/tools/get_pip_offline.py $(SANITY_PIP)
	@# ansible-test lists the files to test with git: the copy gets a repository of its own (the checkout's
	@# would hide it: build/ is ignored there), without ansible-test's own output.
	cd build/sanity/ansible_collections/lvsfleet/lvs && echo tests/output/ > .gitignore && git init -q . && \
	  git add -A && ansible-test sanity --venv --python $(SANITY_PYTHON)

# ansible-test sanity on the collection's files changed since main (committed or not), the same way as `sanity`;
# nothing changed, nothing run. ansible-test keeps its virtual environments, so after the first run this takes
# seconds per file rather than minutes of pip.
sanity-changed: venv
	@git rev-parse -q --verify main >/dev/null || { echo "sanity-changed: no branch main to compare with"; exit 1; }; \
	files=$$( { git diff --name-only main -- plugins roles playbooks meta; git ls-files --others --exclude-standard plugins roles playbooks; } | sort -u); \
	if [ -z "$$files" ]; then echo "sanity-changed: no plugin, role or playbook changed since main"; exit 0; fi; \
	rm -rf build/sanity build/dist && ansible-galaxy collection build --output-path build/dist . >/dev/null && \
	mkdir -p build/sanity/ansible_collections/ansible && cp -a $(dir $(POSIX_MANIFEST)) build/sanity/ansible_collections/ansible/ && \
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/sanity \
	  ansible-galaxy collection install --offline -p build/sanity build/dist/lvsfleet-lvs-*.tar.gz >/dev/null && \
	{ [ -f $(SANITY_PIP) ] || install -D -m 0644 tests/tools/get_pip_offline.py $(SANITY_PIP); } && \
	cd build/sanity/ansible_collections/lvsfleet/lvs && echo tests/output/ > .gitignore && git init -q . && git add -A && \
	shipped=$$(for f in $$files; do [ -f "$$f" ] && echo "$$f"; done); \
	if [ -z "$$shipped" ]; then echo "sanity-changed: none of the changed files ships"; exit 0; fi; \
	echo "sanity-changed:" $$shipped; ansible-test sanity --venv --python $(SANITY_PYTHON) $$shipped

# The same unit tests through ansible-test (`ansible-test units`), on a copy of the checkout's files under
# build/units/ansible_collections/lvsfleet/lvs with a git repository of its own; pytest, xdist and
# tests/unit/requirements.txt come from the package index into ansible-test's virtual environment. The
# Makefile's PATH gives the tests promtool and the ansible-* tools of .venv.
UNITS_COPY := build/units/ansible_collections/lvsfleet/lvs
units: setup
	rm -rf build/units && mkdir -p $(UNITS_COPY)
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -C $(UNITS_COPY) -xf -
	cd $(UNITS_COPY) && echo tests/output/ > .gitignore && git init -q . && git add -A && \
	  ansible-test units --venv --python 3.11

# Molecule scenarios share one lab, booted fresh (the first converge runs on new guests on every `make test`,
# whatever lab was up) and taken down at the end whatever happened (tests/tools/lab_tests.sh). The `default`
# scenario converges it and keeps the result as the lab's "converged" snapshot (lab.py snapshot); every later
# scenario's create restores that snapshot in seconds instead of converging again or undoing the scenario before
# it. Then the anycast lab (LVSFLEET_LAB=ecmp) replaces it for the `ecmp` scenario. Each stage's time goes into
# $(TIMES).
LAB_TESTS = PY=$(PY) TIMES=$(TIMES) bash tests/tools/lab_tests.sh
molecule: setup
	@$(STAGE) start $(TIMES)
	@rc=0; $(LAB_TESTS) $(MOLECULE_SCENARIOS) ecmp || rc=1; $(STAGE) report $(TIMES); exit $$rc

# `make test`: lint and the unit tests (side by side, each one's output kept together) run at the lowest CPU
# priority while the lab boots and converges for the first time, then the lab tests; each stage timed into $(TIMES)
# and reported at the end (pass or fail). SCENARIO=name runs that one molecule scenario instead, from the converged
# snapshot (see `scenario`).
ifdef SCENARIO
test: scenario
else
test: setup
	@$(STAGE) start $(TIMES)
	@rc=0; $(LAB_TESTS) --with-checks $(MOLECULE_SCENARIOS) ecmp || rc=1; $(STAGE) report $(TIMES); exit $$rc
endif

# One scenario on a lab left up for the next one: the lab booted or reused, the converged snapshot restored (or,
# when the lab has none for today's files, the first converge run and snapshotted: lab.py converged), then the
# scenario. default and ecmp converge themselves.
scenario: setup
	@[ -n "$(SCENARIO)" ] && [ -f molecule/$(SCENARIO)/molecule.yml ] || { echo "SCENARIO=<one of: $$(ls molecule | grep -v resources | tr '\n' ' ')>"; exit 2; }
	@$(STAGE) start $(TIMES)
	@rc=0; lab=$$(case $(SCENARIO) in ecmp) echo ecmp;; *) echo vrrp;; esac); \
	case $(SCENARIO) in default|ecmp) LVSFLEET_LAB=$$lab $(PY) lab/lab.py up;; \
	  *) LVSFLEET_LAB=$$lab $(STAGE) run $(TIMES) converged -- $(PY) lab/lab.py converged;; esac || rc=1; \
	[ $$rc = 0 ] && { LVSFLEET_LAB=$$lab LVSFLEET_TIMES=$(CURDIR)/$(TIMES) LVSFLEET_KEEP_LAB=1 $(LABTIMES) \
	  $(STAGE) run $(TIMES) molecule-$(SCENARIO) -- molecule test -s $(SCENARIO) || rc=1; }; \
	$(STAGE) report $(TIMES); exit $$rc

# The inner loop (<= 5 min, no lab): lint and the unit tests side by side, then ansible-test sanity on the plugins,
# roles and playbooks changed since main (none changed: none run).
check: setup
	@$(STAGE) start build/check-times.json
	@rc=0; $(STAGE) run build/check-times.json lint+unit -- $(MAKE) --no-print-directory -j2 --output-sync=target lint unit && \
	$(STAGE) run build/check-times.json sanity-changed -- $(MAKE) --no-print-directory sanity-changed || rc=1; \
	$(STAGE) report build/check-times.json; exit $$rc

# Fault drills too slow for every `make test`: from the converged snapshot, the `rolling` scenario (changes under
# load and their failure modes: the negative control, a rejected config, a verification failure, an unreachable
# director, drain, maintenance, a director rebooted mid-roll, a real server powered off, the director link cut)
# and the `health` scenario (every health-check type on a dead backend), then, from the snapshot again, under load:
# cut the MASTER director's power, measure the failover. Then the anycast lab's drills (molecule/ecmp, tests named
# *drill*): a director powered off under load, a fresh director added under load, maintenance. Each stage's time
# goes into $(DRILL_TIMES). Leaves the anycast lab up.
drills: setup
	@$(STAGE) start $(DRILL_TIMES)
	@rc=0; export LVSFLEET_TIMES=$(CURDIR)/$(DRILL_TIMES) $(LABTIMES); \
	if $(STAGE) run $(DRILL_TIMES) converged -- $(PY) lab/lab.py converged; then \
	  export LVSFLEET_SNAPSHOT=required; \
	  for s in $(DRILL_SCENARIOS); do \
	    LVSFLEET_KEEP_LAB=1 $(STAGE) run $(DRILL_TIMES) drill-$$s -- molecule test -s $$s || rc=1; \
	  done; \
	  $(STAGE) run $(DRILL_TIMES) restore -- $(PY) lab/lab.py snapshot load converged --any && \
	  $(STAGE) run $(DRILL_TIMES) drill-failover -- \
	    python -m pytest -v -s -p no:cacheprovider molecule/rolling/tests/drill_failover.py || rc=1; \
	else rc=1; fi; \
	export LVSFLEET_LAB=ecmp; unset LVSFLEET_SNAPSHOT; \
	$(STAGE) run $(DRILL_TIMES) converged-ecmp -- $(PY) lab/lab.py converged && \
	$(STAGE) run $(DRILL_TIMES) drill-ecmp -- \
	  python -m pytest -v -s -p no:cacheprovider molecule/ecmp/tests/test_ecmp.py -k drill || rc=1; \
	$(STAGE) report $(DRILL_TIMES); exit $$rc

# IPVS benchmark in a lab director: module core vs ipvsadm-restore vs per-rule ipvsadm vs pyroute2.
bench: lab-up
	PY=$(PY) benchmarks/run.sh

# Playbook cost on the lab, ansible-core's linear strategy against Mitogen's (no-op site.yml and reload.yml,
# reload --check --diff, a rolling reload of a change and back); FRESH=1 also times each strategy's first
# converge on a freshly booted lab; STRATEGIES=mitogen (or linear) runs one strategy only.
bench-playbooks: lab-up
	$(PY) benchmarks/playbook_bench.py $(if $(FRESH),--fresh) $(if $(STRATEGIES),--strategies $(STRATEGIES))

# The controller's gate at scale (no host contacted): verify.yml's time and its model, render-per-director and
# keepalived-test tasks at 10..2,000 services (every size at 2 directors, 4 and 8 at the smallest and largest),
# each as a ratio to the 10-service run; JSON last. FULL=1 runs every size at every director count, PROFILE=1
# then profiles the largest (slowest tasks, cProfile); SERVICES=10,100 and DIRECTORS=2 choose sizes.
bench-scale: setup
	$(PY) benchmarks/scale_bench.py $(if $(SERVICES),--services $(SERVICES)) $(if $(DIRECTORS),--directors $(DIRECTORS)) \
	  $(if $(FULL),--full) $(if $(PROFILE),--profile)

clean: lab-down
	rm -rf $(VENV)
