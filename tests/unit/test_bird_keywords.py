"""The model's BIRD keyword list is BIRD's: BIRD 2.0.12 (`bird -p`, the controller's, from `make setup`) refuses
every word of model.BIRD_KEYWORDS as a protocol name, and accepts protocol names that are not keywords; the model
refuses every keyword before bird.conf is rendered. The list was read from the bird binary's lexer (its words,
each tried as a protocol name); a BIRD upgrade that adds a keyword shows up here as a name the model lets through
only if someone lists it, so the second half tries every lower-case word the binary holds."""
import re
import subprocess

import pytest

from conftest import tool

from ansible_collections.lvsfleet.lvs.plugins.module_utils.lvsfleet.model import BIRD_KEYWORDS, ModelError, _bird_name

CONF = "router id 192.0.2.1;\nprotocol device {name} {{ }}\n"


def bird_accepts(name: str) -> tuple[bool, str]:
    run = subprocess.run([tool("bird"), "-p", "-c", "/dev/stdin"], input=CONF.format(name=name), text=True,
                         capture_output=True, timeout=30)
    return run.returncode == 0, (run.stdout + run.stderr).strip()


def test_bird_refuses_every_keyword_of_the_model():
    accepted = [w for w in sorted(BIRD_KEYWORDS) if bird_accepts(w)[0]]
    assert not accepted, f"bird accepts these as protocol names; drop them from BIRD_KEYWORDS: {accepted}"


@pytest.mark.parametrize("name", ["upstream1", "tor_a", "AS65000_peer", "_x"])
def test_bird_and_the_model_accept_ordinary_names(name):
    assert bird_accepts(name)[0]
    assert _bird_name("lvs_bgp.neighbors[0].name", name) == name


def test_the_model_refuses_every_word_bird_refuses():
    """Every lower-case word in the bird binary that BIRD refuses as a protocol name is in the model's list."""
    words = set(re.findall(rb"(?<![A-Za-z0-9_])[a-z][a-z0-9_]{1,23}(?![A-Za-z0-9_])",
                           open(tool("bird"), "rb").read()))
    candidates = sorted(w.decode() for w in words)
    missed = [w for w in candidates if w not in BIRD_KEYWORDS and not w.startswith("lvs_") and w != "device1"
              and not bird_accepts(w)[0] and "syntax error" in bird_accepts(w)[1]]
    assert not missed, f"BIRD refuses these as protocol names; the model lets them through: {missed}"
    for word in sorted(BIRD_KEYWORDS)[:: 17]:
        with pytest.raises(ModelError, match="is a BIRD keyword"):
            _bird_name("lvs_bgp.neighbors[0].name", word)
