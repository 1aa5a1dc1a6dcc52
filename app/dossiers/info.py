"""Frozen values the dossiers domain hands out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class DossierInfo:
    id: int
    agency_id: int
    year: int
    code: str
    file_code: str  # OrganId.FileCatalog.FileNotation (Phụ lục VI Mục III)
    title: str
    retention: str
    retention_label: str
    access: str
    access_label: str
    language: str
    department_id: int | None
    department_name: str | None
    responsible_staff_id: int
    responsible_name: str
    status: str
    status_label: str
    opened_on: dt.date
    closed_on: dt.date | None
    deposited_on: dt.date | None
    deposit_due_on: dt.date | None
    note: str
    doc_total: int
    page_total: int
    can_manage: bool


@dataclass(frozen=True)
class DossierEntryInfo:
    position: int
    document_id: int
    direction: str
    number_notation: str | None
    issue_date: dt.date | None
    type_name: str | None
    summary: str
    author: str | None  # tác giả văn bản: the issuer of an incoming one, our agency for an outgoing one
    pages: int | None
    filed_at: dt.datetime


@dataclass(frozen=True)
class DepositDueInfo:
    dossier_id: int
    agency_id: int
    code: str
    title: str
    closed_on: dt.date
    due_on: dt.date
    days_left: int
    responsible_user_id: int | None


@dataclass(frozen=True)
class DepositReminderInfo:
    """A deposit reminder to send now: ``stage`` is "due_soon" or "overdue"; ``user_ids`` are who is told."""

    due: DepositDueInfo
    stage: str
    user_ids: tuple[int, ...]
