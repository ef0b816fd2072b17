# lvsfleet: the two commands are `make demo` (main job on the built-in lab) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
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
# director's rendered configuration with it on the controller, in a private network namespace).
APT_PACKAGES := qemu-system-x86 qemu-utils mmdebstrap e2fsprogs cpio busybox-static xz-utils \
	openssh-client iproute2 python3 python3-venv ca-certificates keepalived util-linux chromium
MOLECULE_SCENARIOS := default reload ipvs bootstrap clientside adopt
# Drills: long or destructive, run by `make drills` (not by `make test`).
DRILL_SCENARIOS := rolling health
DEMO_VIP := 198.51.100.10:80
# The anycast lab's VIP (inventory/lab-ecmp).
ECMP_VIP := 203.0.113.50:80
# The client balances this VIP itself (role client_side, inventory/lab/group_vars/client_side).
CLIENT_SIDE_VIP := 192.0.2.10:80

.PHONY: setup apt venv promtool demo demo-ecmp demo-client-side test lint unit units sanity molecule drills lab-up lab-down lab-status converge bench bench-playbooks bench-scale clean

setup: apt venv promtool

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

lab-up: setup
	$(PY) lab/lab.py up

lab-down:
	@if [ -x $(PY) ]; then $(PY) lab/lab.py down; fi

lab-status:
	$(PY) lab/lab.py status

converge: lab-up
	ansible-playbook playbooks/site.yml

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

# Molecule scenarios share one lab: booted once here, taken down at the end whatever happened. The VRRP
# scenarios run on the VRRP lab; then the anycast lab (LVSFLEET_LAB=ecmp) replaces it for the `ecmp` scenario.
molecule: setup
	$(PY) lab/lab.py up
	rc=0; for s in $(MOLECULE_SCENARIOS); do \
	  LVSFLEET_KEEP_LAB=1 molecule test -s $$s || { rc=1; break; }; \
	done; \
	if [ $$rc = 0 ]; then \
	  export LVSFLEET_LAB=ecmp; $(PY) lab/lab.py up && LVSFLEET_KEEP_LAB=1 molecule test -s ecmp || rc=1; \
	fi; \
	$(PY) lab/lab.py down; LVSFLEET_LAB=ecmp $(PY) lab/lab.py down; exit $$rc

test: lint unit molecule

# Fault drills too slow for every `make test` on this host (about 2 hours in all): rolling changes under
# load (molecule `rolling`: eight steps, each a rolling reload of 2-9 min on emulated directors, ~75 min),
# every health-check type on a dead backend (molecule `health`, ~25 min), then, under load, cut the
# MASTER director's power, measure the failover, power it on again. Then the anycast lab's drills (molecule/ecmp,
# tests named *drill*): a director powered off under load, a fresh director added under load. Boots and deploys
# each lab if needed and leaves the anycast lab up.
drills: setup
	$(PY) lab/lab.py up
	ansible-playbook playbooks/site.yml
	rc=0; for s in $(DRILL_SCENARIOS); do LVSFLEET_KEEP_LAB=1 molecule test -s $$s || rc=1; done; \
	ansible-playbook playbooks/site.yml || rc=1; \
	LVSFLEET_DRILLS=1 python -m pytest -v -s -p no:cacheprovider molecule/default/tests/test_secrets_vvv.py \
	  -k "not site" || rc=1; \
	python -m pytest -v -s -p no:cacheprovider molecule/rolling/tests/drill_failover.py || rc=1; \
	export LVSFLEET_LAB=ecmp; $(PY) lab/lab.py up && ansible-playbook -i inventory/lab-ecmp lab/site.yml && \
	python -m pytest -v -s -p no:cacheprovider molecule/ecmp/tests/test_ecmp.py -k drill || rc=1; \
	exit $$rc

# IPVS benchmark in a lab director: module core vs ipvsadm-restore vs per-rule ipvsadm vs pyroute2.
bench: lab-up
	PY=$(PY) benchmarks/run.sh

# Playbook cost on the lab, ansible-core's linear strategy against Mitogen's (no-op site.yml and reload.yml,
# reload --check --diff, a rolling reload of a change and back); FRESH=1 also times each strategy's first
# converge on a freshly booted lab; STRATEGIES=mitogen (or linear) runs one strategy only.
bench-playbooks: lab-up
	$(PY) benchmarks/playbook_bench.py $(if $(FRESH),--fresh) $(if $(STRATEGIES),--strategies $(STRATEGIES))

# The controller's gate at scale (no host contacted): verify.yml, the model, one director's render and keepalived's
# test at 10..2,000 services x 2..8 directors, each as a ratio to the smallest size; SERVICES=10,100 and
# DIRECTORS=2 choose sizes.
bench-scale: setup
	$(PY) benchmarks/scale_bench.py $(if $(SERVICES),--services $(SERVICES)) $(if $(DIRECTORS),--directors $(DIRECTORS))

clean: lab-down
	rm -rf $(VENV)
