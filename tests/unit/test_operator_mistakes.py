"""Operator mistakes the gate once let through (tests/bad_inventories/operator_mistakes.yml): each stops the gate
with its exact message; a daily sample also through a real site.yml against unreachable hosts, as in
test_bad_inventories.py. And a private key in the certificate's variable is refused without being shown."""
import datetime
import os
import random
from pathlib import Path

import pytest
import yaml

from cryptography import x509  # noqa: F401  (the lab's controller requirement; the key below is made here)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from test_bad_inventories import contacted, model_check, run_site

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError

CASES = yaml.safe_load((Path(__file__).resolve().parents[2] / "tests" / "bad_inventories" / "operator_mistakes.yml")
                       .read_text())


def case_body(case: dict) -> dict:
    return {k: v for k, v in case.items() if k not in ("why",)}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_mistake_is_refused_with_its_message(case):
    with pytest.raises(ModelError) as err:
        model_check(case_body(case))
    assert str(err.value) == case["message"]


def test_a_sample_stops_site_yml_before_any_host(tmp_path):
    seed = int(os.environ.get("LVSFLEET_CORPUS_SEED", "") or datetime.date.today().strftime("%Y%m%d"))
    for case in random.Random(seed).sample(CASES, 3):
        proc = run_site(case_body(case), tmp_path)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0 and not contacted(out), f"{case['name']} (seed {seed}):\n{out[-1500:]}"


def test_a_private_key_in_the_certificate_variable_is_not_shown():
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    body = key.splitlines()[1]
    hosts = {h: {"lvs_metrics_address": f"192.0.2.{n}"} for n, h in ((1, "d1"), (2, "d2"))}
    with pytest.raises(ModelError) as err:
        model_check({"all_vars": {"lvs_metrics_tls_cert": key, "lvs_metrics_tls_key": key}, "hosts": hosts})
    assert "private key" in str(err.value) and body[:16] not in str(err.value), str(err.value)
