"""Designer fixtures: a fresh agency with an agency admin, the validation context, diagram edits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.designer import FIXTURES, ROOT, template, with_check_step

__all__ = ["FIXTURES", "ROOT", "template", "with_check_step"]


@dataclass
class AdminSetup:
    agency: Any
    admin: Any
    client: Any
    clerk: Any


@pytest.fixture
def ctx(app: Any) -> Any:
    from app.designer.diagrams import validation_context

    return validation_context(None, forms_dir=app.config["QLVB_FORMS_DIR"],
                              processes_dir=app.config["QLVB_PROCESSES_DIR"])


@pytest.fixture
def agency_admin(make_agency: Callable[..., Any], make_account: Callable[..., Any],
                 logged_in: Callable[..., Any]) -> AdminSetup:
    agency = make_agency()
    admin = make_account(agency.code, ["agency_admin"], name="Trần Quản Trị")
    clerk = make_account(agency.code, ["clerk"], department_code="vp", name="Lê Văn Thư")
    return AdminSetup(agency, admin, logged_in(admin), clerk)
