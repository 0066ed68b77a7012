"""The README stays a front page, and every relative link in the documentation resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
EXTERNAL = ("http://", "https://", "mailto:")


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, where a link is a link."""
    lines, in_code = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code:
            lines.append(line)
    return lines


def links(path: Path) -> list[str]:
    prose = "\n".join(prose_lines(path.read_text(encoding="utf-8")))
    prose = re.sub(r"`[^`\n]*`", "", prose)  # code spans may show link syntax as text
    return LINK.findall(prose)


def heading_anchors(path: Path) -> set[str]:
    """GitHub's anchors for a Markdown file's headings (lowercase, punctuation dropped, spaces to hyphens)."""
    anchors, seen = set(), {}
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_heading_anchors_follow_github(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# The reference analysis's 26 features, every model\n\n## `serkit predict`\n\n"
        "```bash\n# a shell comment, not a heading\n```\n\n### Time\n\n### Time\n",
        encoding="utf-8",
    )
    assert heading_anchors(page) == {
        "the-reference-analysiss-26-features-every-model", "serkit-predict", "time", "time-1",
    }


def test_readme_is_a_front_page():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines (at most {MAX_README_LINES})"
    text = "\n".join(lines)
    for command in ("pip install torch==2.13.0", "serkit demo", "python -m pytest -q", "bash .ci/run"):
        assert command in text, f"README.md lacks {command!r}"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    broken = []
    for target in links(path):
        if target.startswith(EXTERNAL):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert not broken, f"{path.relative_to(ROOT)}: " + "; ".join(broken)


def test_every_docs_page_is_in_the_index():
    linked = {Path(target.partition("#")[0]).name for target in links(DOCS / "index.md")}
    pages = {page.name for page in DOCS.glob("*.md")} - {"index.md"}
    assert pages - linked == set(), f"docs/index.md does not link {sorted(pages - linked)}"


TABLE_SEPARATOR = re.compile(r"^\|(\s*:?-{3,}:?\s*\|)+$")


def tables(path: Path) -> list[list[str]]:
    """Each run of table rows (lines starting with ``|``) outside code blocks."""
    runs, current = [], []
    for line in [*prose_lines(path.read_text(encoding="utf-8")), ""]:
        if line.startswith("|"):
            current.append(line.strip())
        elif current:
            runs.append(current)
            current = []
    return runs


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.name)
def test_every_table_has_its_header_and_no_blank_line_inside(path):
    # A blank line inside a table starts a new one without a header: the rows after it show as text.
    for rows in tables(path):
        assert len(rows) >= 2 and TABLE_SEPARATOR.match(rows[1]), f"{path.name}: a table without its header: {rows[0]}"
