"""lvs_ssh_password on a management host without paramiko: the module says which library is missing, the way
ansible-core's modules say it (missing_required_lib), before it connects anywhere and without the password."""
import importlib.util
import json
import socket
import sys
from pathlib import Path

import pytest
from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.testing import patch_module_args

MODULE = Path(__file__).resolve().parents[2] / "plugins" / "modules" / "lvs_ssh_password.py"
ARGS = {"host": "192.0.2.21", "user": "admin", "password": "s3cret-pw",
        "host_key_fingerprint": "SHA256:" + "A" * 43, "state": "probe"}


def load(monkeypatch, without_paramiko: bool):
    if without_paramiko:
        monkeypatch.setitem(sys.modules, "paramiko", None)  # `import paramiko` raises ImportError
    spec = importlib.util.spec_from_file_location("lvsfleet_test_lvs_ssh_password", MODULE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_without_paramiko_it_fails_with_missing_required_lib(monkeypatch, capsys):
    mod = load(monkeypatch, without_paramiko=True)
    assert mod.HAS_PARAMIKO is False and "paramiko" in mod.PARAMIKO_IMPORT_ERROR

    def no_connection(*args, **kwargs):
        raise AssertionError("the module connected although it cannot log in")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    with patch_module_args(ARGS), pytest.raises(SystemExit) as exc:
        mod.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    assert exc.value.code == 1 and result["failed"] is True
    assert result["msg"] == missing_required_lib("paramiko", reason="to log in to the worker with its password")
    assert "s3cret-pw" not in out


def test_with_paramiko_the_import_is_not_reported(monkeypatch):
    pytest.importorskip("paramiko")
    mod = load(monkeypatch, without_paramiko=False)
    assert mod.HAS_PARAMIKO is True and mod.PARAMIKO_IMPORT_ERROR is None
