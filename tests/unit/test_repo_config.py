"""What the repository's own ansible.cfg makes every run in it do."""
import configparser
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cfg():
    c = configparser.ConfigParser()
    c.read(REPO / "ansible.cfg")
    return c


def test_no_vault_identity_is_configured_for_every_run():
    assert not cfg().has_option("defaults", "vault_identity_list"), \
        "a default vault id would encrypt production secrets with the lab's committed password"


def test_encrypt_string_in_the_repository_does_not_use_the_lab_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_VAULT")}
    env.update(ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), HOME=str(tmp_path))
    tool = Path(sys.executable).parent / "ansible-vault"
    p = subprocess.run([str(tool), "encrypt_string", "--name", "x", "production-secret"], cwd=REPO, env=env,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert p.returncode != 0 and ";lab" not in p.stdout, p.stdout + p.stderr


def test_ssh_control_sockets_stay_in_a_per_user_directory():
    c = cfg()
    path = c.get("ssh_connection", "control_path_dir", fallback="~/.ansible/cp")
    assert path.startswith("~/"), f"control_path_dir {path} is shared between users"
