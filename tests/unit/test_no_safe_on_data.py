"""No template marks data as safe: JSON for scripts goes through ``tojson``, everything else is autoescaped.

``|safe`` is allowed only on values listed here, each a constant the code ships (never user or agency data).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "app"
SAFE = re.compile(r"\{\{\s*(.+?)\s*\|\s*safe\b")
# (template, expression): why it is constant.
CONSTANTS = {
    ("render/templates/document_decree30.html", "css"),  # package_css("document_decree30.css"), a shipped file
}


def test_no_template_uses_safe_on_data() -> None:
    found = []
    for path in sorted(ROOT.rglob("*.html")):
        rel = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for expression in SAFE.findall(line):
                if (rel, expression) not in CONSTANTS:
                    found.append(f"{rel}:{number}: {{{{ {expression}|safe }}}}")
    assert not found, "use |tojson (JSON) or plain autoescaping instead:\n" + "\n".join(found)


def test_the_statistics_charts_are_written_with_tojson() -> None:
    for rel in ("web/templates/stats/agency.html", "web/templates/stats/dashboard.html"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert '<script type="application/json"' in text and "|tojson" in text
