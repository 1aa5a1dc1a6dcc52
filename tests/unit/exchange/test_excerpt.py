"""Pure parts of the exchange domain."""

from __future__ import annotations

from app.exchange.services import _excerpt, thread_link


def test_excerpt_is_one_line_and_bounded() -> None:
    assert _excerpt("Dòng một\n\nDòng   hai") == "Dòng một Dòng hai"
    long = "Báo cáo " * 100
    cut = _excerpt(long, 50)
    assert len(cut) == 50 and cut.endswith("…")
    assert thread_link(7) == "/exchange/7"
