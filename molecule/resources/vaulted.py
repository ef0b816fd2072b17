"""The lab's vaulted secrets, and a check that a command's output shows none of them.

    python vaulted.py COMMAND...     run COMMAND (an ansible-playbook at -vvv), print its changed tasks, its
                                     PLAY RECAP and stderr's tail; exit 1 if its output holds a lab secret
                                     (named, never printed), else COMMAND's exit code

Secrets are every `!vault` value of inventory/lab, decrypted with the lab's vault password: what an
inventory would hold in production (VRRP auth_pass, MySQL check password); and the vaulted files of this lab
boot (the password-only guest's root password, /var/lib/lvsfleet-lab/*.vault).
"""
import subprocess
import sys
from pathlib import Path

import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventory" / "lab"
LAB_STATE = Path("/var/lib/lvsfleet-lab")
PASSWORD = REPO / "inventory" / "lab-vault-password.lab"


class _Vaulted(str):
    pass


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!vault", lambda loader, node: _Vaulted(loader.construct_scalar(node)))


def _vaulted(node, path=""):
    if isinstance(node, _Vaulted):
        yield path, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _vaulted(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _vaulted(v, f"{path}[{i}]")


def lab_secrets() -> dict[str, str]:
    """{variable: plaintext} for every vaulted value of the lab inventory."""
    vault = VaultLib([("lab", VaultSecret(PASSWORD.read_bytes().strip()))])
    out = {}
    for f in sorted(INVENTORY.rglob("*.yml")):
        for name, cipher in _vaulted(yaml.load(f.read_text(), Loader=_Loader)):  # noqa: S506 (SafeLoader subclass)
            out[f"{f.relative_to(REPO)}:{name}"] = vault.decrypt(cipher.encode()).decode()
    for f in sorted(LAB_STATE.glob("*.vault")):
        out[str(f)] = vault.decrypt(f.read_bytes()).decode().strip()
    if not out:
        raise RuntimeError(f"no vaulted values found under {INVENTORY}")
    return out


def leaks(text: str, secrets: dict[str, str] | None = None) -> list[str]:
    """Where `text` shows a secret: "variable (line N)", the secret itself never."""
    found = []
    for name, plain in (secrets or lab_secrets()).items():
        for n, line in enumerate(text.splitlines(), 1):
            if plain in line:
                found.append(f"{name} (output line {n})")
                break
    return found


def summary(stdout: str, stderr: str) -> str:
    """What a caller searches: the tasks that changed something, the whole PLAY RECAP and stderr's tail."""
    lines = stdout.splitlines()
    changed = [f"{task} {line}" for task, line in zip([""] + lines, lines) if line.startswith("changed: [")]
    at = max((i for i, line in enumerate(lines) if line.startswith("PLAY RECAP")), default=len(lines) - 15)
    return "\n".join(changed[:20] + lines[max(at, 0):] + stderr.splitlines()[-10:])


def main(argv: list[str]) -> int:
    p = subprocess.run(argv, capture_output=True, text=True)
    out = p.stdout + p.stderr
    secrets = lab_secrets()
    found = leaks(out, secrets)
    shown = summary(p.stdout, p.stderr)
    for plain in secrets.values():  # a leak is named below, never shown
        shown = shown.replace(plain, "<secret>")
    print(shown)
    if found:
        print(f"secrets: the output of {' '.join(argv[:2])}... shows {', '.join(found)}", file=sys.stderr)
        return 1
    print(f"secrets: none of {len(secrets)} vaulted values in {len(out.splitlines())} lines of output")
    return p.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
