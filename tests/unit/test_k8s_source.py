"""HeYe-style Service + Endpoints documents convert to the one service model, or fail naming the field."""
from pathlib import Path

import pytest
import yaml

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError, normalize_services, services_from_k8s

SHOP = list(yaml.safe_load_all((Path(__file__).resolve().parents[2] / "inventory" / "lab-services" /
                                "shop.yaml").read_text()))


def test_lab_example_converts_and_validates():
    (svc,) = normalize_services(services_from_k8s(SHOP))
    assert (svc["name"], svc["vip"], svc["port"], svc["protocol"], svc["scheduler"]) == \
        ("shop", "198.51.100.40", 80, "tcp", "wrr")
    assert [(r["address"], r["port"]) for r in svc["real_servers"]] == [("203.0.113.21", 8080), ("203.0.113.22", 8080)]
    assert svc["health_check"]["type"] == "http" and svc["health_check"]["path"] == "/"


def variant(edit):
    docs = yaml.safe_load(yaml.safe_dump(SHOP))
    edit(*docs)
    return docs


CASES = [
    (lambda s, e: e["subsets"][0]["ports"][0].update(name="https"),
     "k8s: Endpoints shop.subsets[0].ports[0].name 'https' matches no port of Service shop (ports: http)"),
    (lambda s, e: e["metadata"]["annotations"].pop("healthCheckType"),
     "k8s: Endpoints shop: metadata.annotations.healthCheckType is required"),
    (lambda s, e: e["metadata"]["annotations"].pop("calledSource"),
     "k8s: Endpoints shop: metadata.annotations.calledSource is required"),
    (lambda s, e: e["metadata"]["annotations"].update(healthCheckType="udp"),
     "k8s: Endpoints shop: metadata.annotations.healthCheckType: 'udp' is not one of http, tcp, mysql"),
    (lambda s, e: s["spec"].pop("externalIPs"),
     "k8s: Service shop: spec needs loadBalancerIP, externalIPs or clusterIP (the VIP)"),
    (lambda s, e: e["metadata"].update(name="shop2"), "k8s: Service shop: no Endpoints named 'shop'"),
]


@pytest.mark.parametrize("edit,message", CASES, ids=[m[:50] for _, m in CASES])
def test_bad_source_names_the_field(edit, message):
    with pytest.raises(ModelError) as err:
        services_from_k8s(variant(edit))
    assert str(err.value) == message
