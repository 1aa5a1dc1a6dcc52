"""A process the agency creates without code (issue #12.4): the admin defines and publishes it in the designer,
staff start it from the menu, its steps reach the lane's role, its files stay with the case."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from app.cases.models import Case, CaseFile
from app.designer.models import ProcessDefinition
from app.extensions import db
from app.workflow.models import ProcessInstance
from tests.support.ops import office  # noqa: F401  (fixture)


def _task_id(page: str, name: str) -> int:
    m = re.search(r'href="/tasks/(\d+)"><strong>' + re.escape(name) + "</strong>", page)
    assert m, page[-2000:]
    return int(m.group(1))


def test_an_agency_defines_a_process_and_staff_run_it(office, make_account, make_agency, logged_in) -> None:  # noqa: F811
    admin = logged_in(make_account(office.agency.code, ["agency_admin"], name="Lê Quản Trị"))
    refused = admin.form_post("/designer/new", {"name": "x", "role": ""})
    assert refused.status_code == 200 and "Tên quy trình dài từ 3 đến 200 ký tự" in refused.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(ProcessDefinition)) == 0

    made = admin.form_post("/designer/new", {"name": "Đề xuất mua sắm thiết bị", "description": "Đề xuất của phòng",
                                             "role": "head"})
    assert made.status_code == 302 and "/designer/process/p_de_xuat_mua_sam_thiet_bi/" in made.headers["Location"]
    key = "p_de_xuat_mua_sam_thiet_bi"
    listing = admin.get("/designer/").get_data(as_text=True)
    assert "Đề xuất mua sắm thiết bị" in listing
    modeler = admin.get(f"/designer/process/{key}/").get_data(as_text=True)
    assert "Bước xử lý" in modeler  # the kind picker offers the generic kinds
    published = admin.form_post(f"/designer/process/{key}/publish", {"note": "Ban hành quy trình đề xuất"},
                                from_page=f"/designer/process/{key}/")
    assert published.status_code == 302 and "/versions" in published.headers["Location"], \
        admin.get(f"/designer/process/{key}/").get_data(as_text=True)[-1500:]

    spec = logged_in(office["spec_a"].account)
    menu = spec.get("/cases/").get_data(as_text=True)
    assert "Đề xuất mua sắm thiết bị" in menu
    empty = spec.form_post(f"/cases/new/{key}", {"title": ""})
    assert empty.status_code == 200 and "Hãy nhập tiêu đề" in empty.get_data(as_text=True)
    started = spec.form_post(f"/cases/new/{key}", {
        "title": "Mua 5 máy tính cho phòng Nghiệp vụ",
        "case_files": (io.BytesIO(b"Bang du tru kinh phi\n"), "du-tru.txt")}, content_type="multipart/form-data")
    assert started.status_code == 302, started.get_data(as_text=True)[-1500:]
    case = db.session.scalar(select(Case).where(Case.process_key == key))
    assert case.title == "Mua 5 máy tính cho phòng Nghiệp vụ" and case.agency_id == office.agency.id

    head = logged_in(office["head_nv"].account)
    inbox = head.get("/inbox/").get_data(as_text=True)
    assert "Mua 5 máy tính cho phòng Nghiệp vụ" in inbox
    task_id = _task_id(inbox, "Xử lý")
    done = head.form_post(f"/tasks/{task_id}", {"result": "Đã trình lãnh đạo phê duyệt mua sắm",
                                                "files": (io.BytesIO(b"To trinh\n"), "to-trinh.txt")},
                          content_type="multipart/form-data")
    assert done.status_code == 302, done.get_data(as_text=True)[-1500:]
    db.session.expire_all()
    assert db.session.get(ProcessInstance, case.instance_id).status == "completed"
    names = [f.filename for f in db.session.scalars(select(CaseFile).where(CaseFile.case_id == case.id))]
    assert names == ["du-tru.txt", "to-trinh.txt"]
    page = spec.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Đã hoàn thành" in page and "to-trinh.txt" in page and "Đã trình lãnh đạo phê duyệt mua sắm" in page

    other = make_agency()
    stranger = logged_in(make_account(other.code, ["specialist"], department_code="nv", name="Người Khác"))
    assert stranger.get(f"/cases/{case.id}").status_code == 404
    assert stranger.get(f"/cases/new/{key}").status_code == 404
    assert "Đề xuất mua sắm" not in stranger.get("/cases/").get_data(as_text=True)
