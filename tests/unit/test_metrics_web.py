"""node_exporter's TLS and basic auth in the gate (model.metrics_web, the filter's fleet-wide checks) and the
bcrypt hash its web config holds. Certificates are made here with cryptography (ansible-core's dependency)."""
import datetime
import ipaddress

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.lvsfleet.lvs.plugins.filter.lvs import lvs_bcrypt, lvs_check_inventory
from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import ModelError, metrics_web

NOW = datetime.datetime.now(datetime.timezone.utc)


def pem_key(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def certificate(key, ca_key, ips=("203.0.113.11",), days=(-1, 30)) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "node")])
    ca = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(ca).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW + datetime.timedelta(days=days[0]))
               .not_valid_after(NOW + datetime.timedelta(days=days[1])))
    if ips:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]), critical=False)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


CA_KEY = ec.generate_private_key(ec.SECP256R1())
KEY = ec.generate_private_key(ec.SECP256R1())
CERT = certificate(KEY, CA_KEY, ips=("203.0.113.11", "203.0.113.12"))
CA = certificate(CA_KEY, CA_KEY, ips=())
WEB = {"lvs_metrics_tls_cert": CERT, "lvs_metrics_tls_key": pem_key(KEY),
       "lvs_metrics_basic_auth_password": "s3cret-scrape"}


def test_tls_and_basic_auth_are_read():
    assert metrics_web("lb1", WEB) == {"tls": True, "user": "prometheus", "password": "s3cret-scrape"}
    assert metrics_web("lb1", {}) == {"tls": False, "user": None, "password": None}
    only_tls = {k: v for k, v in WEB.items() if "tls" in k}
    assert metrics_web("lb1", only_tls) == {"tls": True, "user": None, "password": None}


BAD = [
    ({"lvs_metrics_tls_cert": CERT}, "lb1: lvs_metrics_tls_cert and lvs_metrics_tls_key come together"),
    (WEB | {"lvs_metrics_tls_cert": "not a certificate"}, "lb1: lvs_metrics_tls_cert: 'not a certificate' must be "
                                                          "PEM certificates"),
    (WEB | {"lvs_metrics_tls_cert": CERT + "\n# trailing\n"}, "lb1: lvs_metrics_tls_cert:"),
    (WEB | {"lvs_metrics_tls_key": CERT}, "lb1: lvs_metrics_tls_key: must be one PEM private key"),
    (WEB | {"lvs_metrics_tls_cert": ["x"]}, "lb1: lvs_metrics_tls_cert: ['x'] must be PEM certificates"),
    (WEB | {"lvs_metrics_basic_auth_password": ""}, "lb1: lvs_metrics_basic_auth_password: must be a string of 1"),
    (WEB | {"lvs_metrics_basic_auth_password": "x" * 73}, "lb1: lvs_metrics_basic_auth_password: must be"),
    (WEB | {"lvs_metrics_basic_auth_password": " padded"}, "lb1: lvs_metrics_basic_auth_password: must be"),
    (WEB | {"lvs_metrics_basic_auth_password": "new\nline"}, "lb1: lvs_metrics_basic_auth_password: must be"),
    (WEB | {"lvs_metrics_basic_auth_password": 1234}, "lb1: lvs_metrics_basic_auth_password: must be"),
    (WEB | {"lvs_metrics_basic_auth_user": "pro metheus"}, "lb1: lvs_metrics_basic_auth_user: 'pro metheus' must be"),
    (WEB | {"lvs_metrics_basic_auth_user": "a\"b"}, "lb1: lvs_metrics_basic_auth_user: 'a\"b' must be"),
    ({"lvs_metrics_basic_auth_user": "prometheus"}, "lb1: lvs_metrics_basic_auth_user: 'prometheus' is set without"),
    ({"lvs_metrics_basic_auth_password": "s3cret"}, "lb1: lvs_metrics_basic_auth_password: basic auth without TLS"),
]


@pytest.mark.parametrize("hostvars,message", BAD)
def test_bad_web_settings_are_refused_without_showing_secrets(hostvars, message):
    with pytest.raises(ModelError) as exc:
        metrics_web("lb1", hostvars)
    assert str(exc.value).startswith(message), str(exc.value)
    password = hostvars.get("lvs_metrics_basic_auth_password")
    if isinstance(password, str) and len(password) > 3:
        assert password not in str(exc.value)
    assert "PRIVATE KEY-----\n" not in str(exc.value)


def inventory(lb1=None, lb2=None, monitor=None, monitoring=True):
    """Two directors, one real server, a monitoring host (client); lvs_* of each as given."""
    base = {"lvs_services": [{"name": "web", "vip": "198.51.100.10", "port": 80,
                              "real_servers": ["203.0.113.21"]}],
            "lvs_vrrp_instances": [{"name": "VI_1", "interface": "lan0", "virtual_router_id": 51,
                                    "priorities": {"lb1": 150, "lb2": 100},
                                    "virtual_ipaddresses": ["198.51.100.10/24"]}]}
    hostvars = {"lb1": base | {"lvs_metrics_address": "203.0.113.11"} | (lb1 or {}),
                "lb2": base | {"lvs_metrics_address": "203.0.113.12"} | (lb2 or {}),
                "rs1": {"lvs_metrics_address": "203.0.113.21", "real_server_services": [],
                        "real_server_addresses": ["203.0.113.21"]} | (lb2 or {}),
                "client": monitor or {}}
    groups = {"all": list(hostvars), "directors": ["lb1", "lb2"], "real_servers": ["rs1"],
              "monitoring": ["client"] if monitoring else []}
    return _HostVars(hostvars), groups


class _HostVars(dict):
    def raw_get(self, host):
        return self[host]


RS_CERT = certificate(KEY, CA_KEY, ips=("203.0.113.11", "203.0.113.12", "203.0.113.21"))
FLEET = WEB | {"lvs_metrics_tls_cert": RS_CERT}
MONITOR = {"lvs_metrics_tls_ca": CA, "lvs_metrics_basic_auth_password": "s3cret-scrape"}


def test_one_setting_fleet_wide_passes():
    summary = lvs_check_inventory(*inventory(FLEET, FLEET, MONITOR))
    assert summary["directors"] == 2


OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
FLEET_BAD = [
    (dict(lb1=FLEET, lb2={}, monitor=MONITOR), "lb2: lvs_metrics_*: TLS differs from lb1's"),
    (dict(lb1=FLEET, lb2=FLEET | {"lvs_metrics_basic_auth_password": "other"}, monitor=MONITOR),
     "lb2: lvs_metrics_*: the basic-auth user or password differs from lb1's"),
    (dict(lb1=FLEET, lb2=FLEET, monitor={"lvs_metrics_basic_auth_password": "s3cret-scrape"}),
     "client: lvs_metrics_tls_ca: None must be PEM certificates"),
    (dict(lb1=FLEET, lb2=FLEET, monitor=MONITOR | {"lvs_metrics_basic_auth_password": "wrong"}),
     "client: lvs_metrics_basic_auth_user or _password differs from lb1's"),
    (dict(lb1={}, lb2={}, monitor={"lvs_metrics_tls_ca": CA}), "client: lvs_metrics_tls_ca is set, but lb1's"),
    (dict(lb1=FLEET | {"lvs_metrics_tls_key": pem_key(OTHER_KEY)}, lb2=FLEET, monitor=MONITOR),
     "lb1: lvs_metrics_tls_cert: lvs_metrics_tls_key is not this certificate's key"),
    (dict(lb1=FLEET | {"lvs_metrics_tls_cert": certificate(KEY, CA_KEY, ips=("203.0.113.12",))}, lb2=FLEET,
          monitor=MONITOR), "lb1: lvs_metrics_tls_cert: has no IP subject alternative name 203.0.113.11"),
    (dict(lb1=FLEET | {"lvs_metrics_tls_cert": certificate(KEY, CA_KEY, ips=("203.0.113.11",), days=(-30, -1))},
          lb2=FLEET, monitor=MONITOR), "lb1: lvs_metrics_tls_cert: valid from"),
]


@pytest.mark.parametrize("kwargs,message", FLEET_BAD)
def test_fleet_settings_that_would_not_scrape_are_refused(kwargs, message):
    with pytest.raises(Exception) as exc:
        lvs_check_inventory(*inventory(**kwargs))
    assert f"invalid inventory: {message}" in str(exc.value), str(exc.value)


def test_bcrypt_hash_is_stable_per_host_and_verifies():
    first = lvs_bcrypt("s3cret-scrape", "lb1")
    assert first == lvs_bcrypt("s3cret-scrape", "lb1"), "a no-op run would rewrite the web config"
    assert first != lvs_bcrypt("s3cret-scrape", "lb2") and first != lvs_bcrypt("other", "lb1")
    assert first.startswith("$2b$10$") and bcrypt.checkpw(b"s3cret-scrape", first.encode())
    assert not bcrypt.checkpw(b"s3cret-scrapE", first.encode())
