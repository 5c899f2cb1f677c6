"""Main-content extractors compared on the importer's test pages (tests/data/importer/sites/).

    python benchmarks/extractors.py

Each page has an `.expect.yaml` with sentences of the article that must be kept and
pieces of site chrome (cookie banner, menus, bylines, newsletter boxes, comments, related
posts, footers) that must be dropped. For kb's importer (trafilatura, kb/importer/html.py)
and for readability-lxml, the alternative, it prints how many of each survive.
readability-lxml is in the `bench` extra.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SITES = ROOT / "tests" / "data" / "importer" / "sites"


def norm(text: str) -> str:
    return " ".join(html.unescape(text).replace("’", "'").replace("\\", "").split())


def extractors():
    from readability import Document

    from kb.importer import import_html

    return {
        "kb (trafilatura)": lambda raw, name: import_html(raw, name).body_markdown,
        "readability-lxml": lambda raw, name: re.sub(r"<[^>]+>", " ", Document(raw).summary()),
    }


def main() -> None:
    totals: dict[str, list[int]] = {}
    print(f"{'page':12s} {'extractor':18s} {'kept':>9s} {'chrome left':>12s}")
    for expect in sorted(SITES.glob("*.expect.yaml")):
        name = expect.name.split(".")[0]
        wanted = yaml.safe_load(expect.read_text(encoding="utf-8"))
        raw = (SITES / f"{name}.html").read_text(encoding="utf-8")
        for label, extract in extractors().items():
            body = norm(extract(raw, f"{name}.html"))
            kept = sum(norm(s) in body for s in wanted["keep"])
            chrome = sum(norm(s) in body for s in wanted["drop"])
            total = totals.setdefault(label, [0, 0, 0, 0])
            total[0] += kept
            total[1] += len(wanted["keep"])
            total[2] += chrome
            total[3] += len(wanted["drop"])
            print(
                f"{name:12s} {label:18s} {kept:4d}/{len(wanted['keep']):<4d} "
                f"{chrome:6d}/{len(wanted['drop']):<5d}"
            )
    for label, (kept, keep, chrome, drop) in totals.items():
        print(f"{'all pages':12s} {label:18s} {kept:4d}/{keep:<4d} {chrome:6d}/{drop:<5d}")


if __name__ == "__main__":
    main()
