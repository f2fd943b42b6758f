"""Integration tests keep their local state (e.g. mails the outbox writes as .eml files when
no SMTP_HOST is set) in the test's own directory, never under the repository's var/."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
