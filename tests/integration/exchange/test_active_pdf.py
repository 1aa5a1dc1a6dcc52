"""A PDF that acts when opened (JavaScript, open action) is sent as a download, never shown in the browser."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

from tests.unit.documents.test_upload_hazards import blank_pdf


def _post_and_fetch(head: Any, spec_a: Any, participant: int, name: str, pdf: bytes) -> Any:
    resp = head.form_post("/exchange/new", {"title": f"Gửi {name}", "body": "Xem tệp đính kèm.",
                                            "participants": [str(participant)], "files": (BytesIO(pdf), name)},
                          content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[-800:]
    page = spec_a.get(resp.headers["Location"].split(".localhost", 1)[-1]).get_data(as_text=True)
    file_id = re.search(r"/exchange/file/(\d+)", page).group(1)
    return spec_a.get(f"/exchange/file/{file_id}")


def test_active_pdfs_are_downloads_and_passive_ones_open_inline(office: Any, logged_in: Any) -> None:
    head, spec_a = logged_in(office["head_nv"].account), logged_in(office["spec_a"].account)
    uid = office["spec_a"].user_id
    passive = _post_and_fetch(head, spec_a, uid, "thuong.pdf", blank_pdf())
    assert passive.status_code == 200 and passive.headers["Content-Disposition"].startswith("inline")
    for name, pdf in (("mo-la-chay.pdf", blank_pdf(open_action=True)), ("co-script.pdf", blank_pdf(javascript="x"))):
        resp = _post_and_fetch(head, spec_a, uid, name, pdf)
        assert resp.status_code == 200 and resp.data == pdf
        assert resp.headers["Content-Disposition"].startswith("attachment"), name
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
