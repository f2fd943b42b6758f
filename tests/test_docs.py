"""The repository's documentation stands on its own.

- No tracked text file cites a file outside the repository: the team's workbench next to it
  (its design, API and style notes, the help articles the product was built from). A comment
  or a page cites `docs/*.md`, the OpenAPI document the gateway serves at `/api/openapi.json`,
  or says the rule in place.
- Every relative link in README.md, CONTRIBUTING.md and docs/*.md points to a file of the
  repository, and a `#fragment` to a heading of the Markdown file it names.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Written as regular expressions so that this file does not match itself.
OUTSIDE_CITATIONS = {
    "the workbench folder next to the repository": re.compile(r"\.\./shared\b"),
    "the workbench's API notes": re.compile(r"\bAPI\.md\b"),
    "the workbench's design notes": re.compile(r"\bDESIGN\.md\b"),
    "the workbench's style notes": re.compile(r"\bSTYLE\.md\b"),
    "a numbered seed document": re.compile(r"\bseeds?\s+0\d\d", re.IGNORECASE),
    "the seed documents": re.compile(r"\bseeds'|\b(the|of) seeds\b", re.IGNORECASE),
}

DOC_FILES = ("README.md", "CONTRIBUTING.md", "docs/*.md")

# [text](target) and ![alt](target); the target ends at whitespace or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def tracked_text_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:  # pragma: no cover - no git
        pytest.skip(f"git ls-files is not available here: {exc}")
    files = []
    for name in out.decode().split("\0"):
        path = REPO / name
        if not name or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue  # a binary file (the screenshots)
        files.append(path)
    return files


def doc_files() -> list[Path]:
    found: list[Path] = []
    for pattern in DOC_FILES:
        found += sorted(REPO.glob(pattern))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = INLINE_CODE.sub(lambda m: m.group(0)[1:-1], heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        base = slug(match.group(1))
        anchor, n = base, 0
        while anchor in found:  # GitHub numbers repeated headings
            n += 1
            anchor = f"{base}-{n}"
        found.add(anchor)
    return found


def relative_links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    text = INLINE_CODE.sub("", text)
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)  # http:, mailto:, ...
    ]


def test_the_scan_sees_the_repository():
    names = {p.relative_to(REPO).as_posix() for p in tracked_text_files()}
    assert {"README.md", "CONTRIBUTING.md", "docs/architecture.md", "docs/operations.md"} <= names
    assert "common/cc_common/tokens.py" in names


def test_no_tracked_file_cites_a_file_outside_the_repository():
    problems = []
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            for what, pattern in OUTSIDE_CITATIONS.items():
                if pattern.search(line):
                    rel = path.relative_to(REPO).as_posix()
                    problems.append(f"{rel}:{number}: cites {what}: {line.strip()[:120]}")
    assert not problems, "cite the repository's own docs instead:\n" + "\n".join(problems)


@pytest.mark.parametrize("doc", doc_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_of_a_doc_points_into_the_repository(doc):
    problems = []
    for target in relative_links(doc):
        file_part, _, fragment = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc
        if not linked.is_relative_to(REPO):
            problems.append(f"{target}: outside the repository")
        elif not linked.exists():
            problems.append(f"{target}: no such file")
        elif fragment and linked.suffix == ".md" and fragment.lower() not in anchors(linked):
            problems.append(f"{target}: no heading #{fragment} in {linked.relative_to(REPO)}")
    assert not problems, f"{doc.relative_to(REPO)}:\n" + "\n".join(problems)


def test_the_docs_are_linked_from_the_readme_and_contributing():
    for name in ("README.md", "CONTRIBUTING.md"):
        text = (REPO / name).read_text(encoding="utf-8")
        for doc in ("docs/architecture.md", "docs/operations.md"):
            assert f"]({doc})" in text, f"{name} does not link {doc}"


def test_the_slug_of_a_heading_is_githubs():
    assert slug("The merge saga and its states") == "the-merge-saga-and-its-states"
    assert slug("Running several copies: `make cluster`") == "running-several-copies-make-cluster"
    assert slug("Keys and their rotation") == "keys-and-their-rotation"
