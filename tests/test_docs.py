"""The documentation stays readable and its links stay true.

docs/ is for people: pages, the tables and figures they show, and the small
summaries those tables cite. Raw run output lives in runs/ (runs/README.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + sorted((DOCS / "experiments").glob("*.md"))

# [text](target) and ![alt](target), with an optional "title".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)

#: docs/ keeps the summaries `evaluate summary` writes beside its tables
#: (disease.json, rate_4k/disease.json, read by scripts/results.sh and named
#: by the retired checkpoint's card) and the few small JSON files the pages
#: cite; everything else a run writes belongs in runs/.
MAX_DOCS_JSON_BYTES = 1_000_000


def _relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    targets = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a web address, mailto: or an anchor on the same page
        targets.append(target.split("#", 1)[0])
    return targets


def test_the_results_page_stays_short():
    lines = (DOCS / "RESULTS.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"docs/RESULTS.md has {len(lines)} lines (at most 250)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_image_points_to_a_file(page):
    missing = [t for t in _relative_links(page) if not (page.parent / t).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing {missing}"


def test_the_link_finder_sees_links_images_and_skips_code(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        '[a](x.md) ![b](fig/y.png "t") [c](https://e.org) [d](#top) [e](z.md#s)\n'
        "```\n[f](in-code.md)\n```\n",
        encoding="utf-8",
    )
    assert _relative_links(page) == ["x.md", "fig/y.png", "z.md"]


def test_no_run_output_is_kept_under_docs():
    sizes = {p: p.stat().st_size for p in DOCS.rglob("*.json")}
    total = sum(sizes.values())
    biggest = sorted(sizes, key=sizes.get, reverse=True)[:3]
    assert total <= MAX_DOCS_JSON_BYTES, (
        f"{total} bytes of JSON under docs/ (at most {MAX_DOCS_JSON_BYTES}); "
        f"run output belongs in runs/. Largest: "
        + ", ".join(str(p.relative_to(ROOT)) for p in biggest)
    )
    assert not list(DOCS.rglob("units")), "unit folders belong in runs/"
