"""README stays true: every setting and every API route is documented there."""

from __future__ import annotations

import re

from kb.config import SETTINGS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table():
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(KB_[A-Z_]+)` \|", table, flags=re.M))
    assert documented == set(SETTINGS)


def test_every_route_has_a_curl_example(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in spec["paths"]:
        prefix = path.split("{", 1)[0].rstrip("/")
        assert f"curl 'http://127.0.0.1:5000{prefix}" in README, path
