"""Read-only questions about workflows. The inbox reads the human_task projection only.

Reads go through Core (not the ORM identity map) so they always see what the services just wrote.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, column, func, select, text

from app.core import clock
from app.core.errors import NotFoundError, ValidationError
from app.extensions import db
from app.workflow.info import ActorRef, DiagramStateInfo, EventInfo, HumanTaskInfo, InstanceInfo
from app.workflow.models import HumanTask, InstanceEvent, ProcessInstance, ProcessVersion
from app.workflow.services import _load, instance_info, task_info

BUCKETS = ("todo", "in_progress", "overdue", "done")
MAX_PAGE = 200
_ht = HumanTask.__table__
_pi = ProcessInstance.__table__
_ev = InstanceEvent.__table__


_COLUMNS = ", ".join(c.name for c in _ht.c)
_ORDER = {"done": "completed_at DESC, id DESC"}
_DUE_ORDER = "due_at ASC NULLS LAST, id ASC"
# Orders a person may choose (the default, due date ascending, is each open branch's index order).
SORTS = {
    ("due", False): _DUE_ORDER,
    ("due", True): "due_at DESC NULLS LAST, id DESC",
    ("received", False): "created_at ASC, id ASC",
    ("received", True): "created_at DESC, id DESC",
    ("urgency", True): "sort_key DESC, due_at ASC NULLS LAST, id ASC",
    ("urgency", False): "sort_key ASC, due_at ASC NULLS LAST, id ASC",
}
DUE_FILTERS = ("overdue", "today", "soon", "none")
PROCESS_FILTERS = ("incoming", "outgoing", "other")


@dataclass(frozen=True)
class InboxFilter:
    """What a person narrows their inbox to, and its order; every field optional (all tasks, by due date)."""

    urgency: str | None = None
    due: str | None = None  # overdue | today | soon (within 3 days) | none (no deadline)
    process: str | None = None  # incoming | outgoing | other (the subject of the process)
    department_id: int | None = None
    sort: str = "due"  # due | received | urgency
    descending: bool = False

    def __post_init__(self) -> None:
        if self.due is not None and self.due not in DUE_FILTERS:
            raise ValidationError(f'Bộ lọc hạn xử lý "{self.due}" không hợp lệ')
        if self.process is not None and self.process not in PROCESS_FILTERS:
            raise ValidationError(f'Bộ lọc quy trình "{self.process}" không hợp lệ')
        if (self.sort, self.descending) not in SORTS:
            raise ValidationError(f'Cách sắp xếp "{self.sort}" không hợp lệ')

    @property
    def shape(self) -> tuple[Any, ...]:
        return (self.urgency is not None, self.due, self.process, self.department_id is not None, self.sort,
                self.descending)


NO_FILTER = InboxFilter()

# name -> (subject types, a condition on a human_task row's subject): the domains that own the subjects say what
# "urgency" or "department" means for them (documents register theirs at start); bound parameters only.
_SUBJECT_FILTERS: dict[str, tuple[tuple[str, ...], str]] = {}
# The urgency rank of a task's subject, as a correlated scalar expression over human_task (NULL: none).
_SUBJECT_SORTS: dict[str, tuple[tuple[str, ...], str]] = {}


def register_subject_filter(name: str, subject_types: tuple[str, ...], sql: str) -> None:
    """``sql`` is a condition on ``human_task.subject_id`` using ``:f_<name>`` (constant text, never user input)."""
    _SUBJECT_FILTERS[name] = (tuple(subject_types), sql)
    _page_sql.cache_clear()
    _counts_sql.cache_clear()
    _count_sql.cache_clear()


def register_subject_sort(name: str, subject_types: tuple[str, ...], sql: str) -> None:
    _SUBJECT_SORTS[name] = (tuple(subject_types), sql)
    _page_sql.cache_clear()


def _types(types: tuple[str, ...]) -> str:
    # Registered by code: plain identifiers, quoted as SQL literals.
    if not all(t.replace("_", "").isalnum() for t in types):
        raise ValueError("subject types must be identifiers")
    return ", ".join(f"'{t}'" for t in types)


def _subject_clause(name: str) -> str:
    found = _SUBJECT_FILTERS.get(name)
    if found is None:
        return "1 = 0"  # nothing describes such subjects: nothing matches
    types, sql = found
    return f"(subject_type IN ({_types(types)}) AND {sql})"


def _filter_clauses(shape: tuple[Any, ...]) -> list[str]:
    urgency, due, process, department, _sort, _desc = shape
    out = []
    if urgency:
        out.append(_subject_clause("urgency"))
    if due == "overdue":
        out.append("due_at < :now")
    elif due in ("today", "soon"):
        out.append("due_at >= :now AND due_at < :f_due_to")
    elif due == "none":
        out.append("due_at IS NULL")
    if process in ("incoming", "outgoing"):
        out.append(f"subject_type = '{process}'")
    elif process == "other":
        out.append("subject_type NOT IN ('incoming', 'outgoing')")
    if department:
        out.append(f"(candidate_department_id = :f_department OR {_subject_clause('department')})")
    return out


def _branches(bucket: str, users: int, roles: int, pairs: int, shape: tuple[Any, ...] = NO_FILTER.shape) -> list[str]:
    """The WHERE clauses of a bucket, one per UNION ALL branch, mutually exclusive.

    ``user OR (role AND (no department OR my department))`` as one predicate makes PostgreSQL scan and sort
    every open task of the agency; split per role and department (and due date set or not), each branch
    is one range of one partial index, already in page order, so a page costs the same at 100 thousand
    tasks as at 10 million. ``state`` is a literal, not a parameter: a prepared (generic) plan must still
    see that the partial index applies. A deputy (ủy quyền) adds the branches of each person they stand in
    for: ``users`` named people (the actor is ``user0``), ``roles`` distinct lane roles without a department,
    ``pairs`` distinct (role, department) lanes. Filters narrow every branch alike.
    """
    if bucket not in BUCKETS:
        raise ValidationError(f'Nhóm công việc "{bucket}" không hợp lệ')
    extra = "".join(f" AND {c}" for c in _filter_clauses(shape))
    if bucket == "done":
        return [f"agency_id = :agency AND state = 'done' AND completed_by_id = :user0{extra}"]
    open_ = "agency_id = :agency AND state = 'open'"
    if bucket == "in_progress":
        return [f"{open_} AND claimed_by_id = :user{k}{extra}" for k in range(users)]
    candidates = [f"{open_} AND candidate_user_id = :user{k}" for k in range(users)]
    by_role = f"{open_} AND candidate_user_id IS NULL"
    candidates += [f"{by_role} AND candidate_role = :role{i} AND candidate_department_id IS NULL" for i in range(roles)]
    candidates += [f"{by_role} AND candidate_role = :prole{j} AND candidate_department_id = :pdept{j}"
                   for j in range(pairs)]
    if bucket == "overdue":
        claimed = " OR ".join(f"claimed_by_id = :user{k}" for k in range(users))
        return [f"{c} AND (claimed_by_id IS NULL OR {claimed}) AND due_at < :now{extra}" for c in candidates]
    # Due now or later, then no deadline: two ranges of the same index instead of an OR.
    return [f"{c} AND claimed_by_id IS NULL AND {due}{extra}"
            for c in candidates for due in ("due_at >= :now", "due_at IS NULL")]


def _sql(*parts: str) -> str:
    # Built only from the constants above; every value is a bound parameter.
    return " ".join(parts)


def _with_now(sql: str) -> Any:
    statement = text(sql)
    typed = [bindparam(name, type_=_ht.c.due_at.type) for name in ("now", "f_due_to") if f":{name}" in sql]
    return statement.bindparams(*typed) if typed else statement


def _typed(sql: str, *extra: Any) -> Any:
    return _with_now(sql).columns(*_ht.c, *extra)


def _sort_column(shape: tuple[Any, ...]) -> str:
    """The extra column a chosen order sorts on, for each branch and the merge (empty: none needed)."""
    if shape[4] != "urgency":
        return ""
    found = _SUBJECT_SORTS.get("urgency")
    if found is None:
        return ", 0 AS sort_key"
    types, sql = found
    return f", CASE WHEN subject_type IN ({_types(types)}) THEN coalesce(({sql}), 0) ELSE 0 END AS sort_key"


@lru_cache(maxsize=512)
def _page_sql(bucket: str, users: int, roles: int, pairs: int, shape: tuple[Any, ...] = NO_FILTER.shape) -> Any:
    """The page query of one shape, as SQL text: built once, no per-call statement compilation."""
    branches = _branches(bucket, users, roles, pairs, shape)
    chosen = (shape[4], shape[5])
    order = _ORDER.get(bucket, _DUE_ORDER) if chosen == ("due", False) else SORTS[chosen]
    sort_col = _sort_column(shape)
    extra = (column("sort_key"),) if sort_col else ()
    page = _sql("ORDER BY", order, "LIMIT :limit OFFSET :offset")
    read = "EXISTS (SELECT 1 FROM task_read r WHERE r.human_task_id = u.id AND r.user_id = :user0) AS is_read"
    if len(branches) == 1:
        return _typed(_sql("SELECT u.*,", read, "FROM (SELECT", _COLUMNS + sort_col, "FROM human_task WHERE",
                           branches[0], page, ") AS u ORDER BY", order), *extra, column("is_read"))
    # Each branch returns at most one page (from its index, in order); the outer sort merges them.
    parts = " UNION ALL ".join(
        _sql("SELECT * FROM (SELECT", _COLUMNS + sort_col, "FROM human_task WHERE", branch, "ORDER BY", order,
             "LIMIT :top)", f"AS b{i}")
        for i, branch in enumerate(branches)
    )
    merged = _sql("SELECT", _COLUMNS + (", sort_key" if sort_col else ""), "FROM (", parts, ") AS m", page)
    return _typed(_sql("SELECT u.*,", read, "FROM (", merged, ") AS u ORDER BY", order), *extra, column("is_read"))


@lru_cache(maxsize=512)
def _count_sql(bucket: str, users: int, roles: int, pairs: int, shape: tuple[Any, ...] = NO_FILTER.shape) -> Any:
    parts = " UNION ALL ".join(_sql("SELECT id FROM human_task WHERE", b)
                               for b in _branches(bucket, users, roles, pairs, shape))
    return _with_now(_sql("SELECT count(*) FROM (", parts, ") AS u"))


@lru_cache(maxsize=512)
def _counts_sql(buckets: tuple[str, ...], users: int, roles: int, pairs: int,
                shape: tuple[Any, ...] = NO_FILTER.shape) -> Any:
    """Every bucket's count in one statement (one round trip for the inbox's tab badges)."""
    columns = ", ".join(
        _sql("(SELECT count(*) FROM (", " UNION ALL ".join(_sql("SELECT id FROM human_task WHERE", b)
                                                           for b in _branches(bucket, users, roles, pairs, shape)),
             f") AS u{i}) AS c{i}")
        for i, bucket in enumerate(buckets)
    )
    return _with_now(_sql("SELECT", columns))


def identities(actor: ActorRef) -> tuple[list[int], list[str], list[tuple[str, int]]]:
    """The people, lane roles and (role, department) lanes whose open tasks the actor's inbox shows."""
    users, roles, pairs = [actor.user_id], [], []
    for who in (actor, *actor.on_behalf):
        if who.user_id not in users:
            users.append(who.user_id)
        for role in sorted(who.roles):
            if role not in roles:
                roles.append(role)
            if who.department_id is not None and (role, who.department_id) not in pairs:
                pairs.append((role, who.department_id))
    return users, roles, pairs


def _params(actor: ActorRef, now: dt.datetime,
            filters: InboxFilter = NO_FILTER) -> tuple[tuple[Any, ...], dict[str, Any]]:
    users, roles, pairs = identities(actor)
    params: dict[str, Any] = {"agency": actor.agency_id, "now": now}
    params.update({f"user{k}": uid for k, uid in enumerate(users)})
    params.update({f"role{i}": role for i, role in enumerate(roles)})
    for j, (role, department) in enumerate(pairs):
        params[f"prole{j}"], params[f"pdept{j}"] = role, department
    if filters.urgency is not None:
        params["f_urgency"] = filters.urgency
    if filters.department_id is not None:
        params["f_department"] = filters.department_id
    if filters.due in ("today", "soon"):
        days = 1 if filters.due == "today" else 3
        local = dt.datetime.combine(now.astimezone(clock.VN_TZ).date() + dt.timedelta(days=days), dt.time(),
                                    tzinfo=clock.VN_TZ)
        params["f_due_to"] = local.astimezone(dt.UTC)
    return (len(users), len(roles), len(pairs), filters.shape), params


def page_statement(
    actor: ActorRef, bucket: str = "todo", limit: int = 50, offset: int = 0, *, now: dt.datetime | None = None,
    filters: InboxFilter = NO_FILTER,
) -> tuple[Any, dict[str, Any]]:
    """The inbox page query and its parameters (for ``inbox`` and for EXPLAIN in the benchmark)."""
    limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)
    shape, params = _params(actor, now or clock.now(), filters)
    params.update(limit=limit, offset=offset, top=limit + offset)
    return _page_sql(bucket, *shape), params


def inbox(
    actor: ActorRef, bucket: str = "todo", limit: int = 50, offset: int = 0, *, now: dt.datetime | None = None,
    filters: InboxFilter = NO_FILTER,
) -> list[HumanTaskInfo]:
    """One page of the actor's tasks: todo, in_progress (claimed), overdue or done, filtered and ordered."""
    statement, params = page_statement(actor, bucket, limit, offset, now=now, filters=filters)
    return [task_info(row) for row in db.session.connection().execute(statement, params)]


def count_inbox(actor: ActorRef, bucket: str = "todo", *, now: dt.datetime | None = None,
                filters: InboxFilter = NO_FILTER) -> int:
    shape, params = _params(actor, now or clock.now(), filters)
    return db.session.connection().execute(_count_sql(bucket, *shape), params).scalar() or 0


def count_inbox_buckets(actor: ActorRef, buckets: tuple[str, ...] = BUCKETS, *,
                        now: dt.datetime | None = None, filters: InboxFilter = NO_FILTER) -> dict[str, int]:
    """``count_inbox`` of several buckets, in one query."""
    shape, params = _params(actor, now or clock.now(), filters)
    row = db.session.connection().execute(_counts_sql(tuple(buckets), *shape), params).one()
    return {bucket: int(row[i] or 0) for i, bucket in enumerate(buckets)}


def get_task(human_task_id: int) -> HumanTaskInfo:
    row = db.session.connection().execute(_TASK, {"b_task_id": human_task_id}).one_or_none()
    if row is None:
        raise NotFoundError("Không tìm thấy công việc")
    return task_info(row)


_INSTANCE_WITH_OPEN = (
    select(_pi, _ht.c.id.label("open_task_id"))
    .outerjoin(_ht, and_(_ht.c.instance_id == _pi.c.id, _ht.c.state == "open"))
    .where(_pi.c.id == bindparam("b_instance_id"))
    .order_by(_ht.c.id)
)


def get_instance(instance_id: int) -> InstanceInfo:
    """The instance and its open steps, in one query (a row per open step)."""
    rows = db.session.connection().execute(_INSTANCE_WITH_OPEN, {"b_instance_id": instance_id}).all()
    if not rows:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    return instance_info(rows[0], [r.open_task_id for r in rows if r.open_task_id is not None])


_OPEN_TASKS = (
    select(_ht).where(_ht.c.instance_id == bindparam("b_instance_id"), _ht.c.state == "open").order_by(_ht.c.id)
)
_TASK = select(_ht).where(_ht.c.id == bindparam("b_task_id"))


def open_tasks(instance_id: int) -> list[HumanTaskInfo]:
    rows = db.session.connection().execute(_OPEN_TASKS, {"b_instance_id": instance_id})
    return [task_info(row) for row in rows]


def instance_timeline(instance_id: int) -> list[EventInfo]:
    rows = db.session.execute(select(_ev).where(_ev.c.instance_id == instance_id).order_by(_ev.c.at, _ev.c.id))
    return [
        EventInfo(
            id=r.id,
            instance_id=r.instance_id,
            at=r.at,
            actor_id=r.actor_id,
            kind=r.kind,
            task_name=r.task_name,
            bpmn_id=r.bpmn_id,
            comment=r.comment,
            data=r.data,
        )
        for r in rows
    ]


def instance_progress(instance_id: int, *, with_xml: bool = True) -> DiagramStateInfo:
    """The diagram of the version the instance runs on, with done and active element ids (``with_xml=False``:
    the ids only, for a page that fetches the diagram separately)."""
    instance = db.session.execute(select(_pi).where(_pi.c.id == instance_id)).one_or_none()
    if instance is None:
        raise NotFoundError("Không tìm thấy hồ sơ quy trình")
    xml = db.session.scalar(select(ProcessVersion.bpmn_xml).where(ProcessVersion.id == instance.version_id)) \
        if with_xml else None
    run = _load(instance).run
    active = frozenset() if instance.status != "running" else frozenset(run.active_bpmn_ids())
    return DiagramStateInfo(bpmn_xml=xml or "", done_ids=frozenset(run.completed_bpmn_ids()), active_ids=active)


def instances_for_subject(subject_type: str, subject_id: int, *, agency_id: int | None = None) -> list[InstanceInfo]:
    query = select(_pi).where(_pi.c.subject_type == subject_type, _pi.c.subject_id == subject_id)
    if agency_id is not None:
        query = query.where(_pi.c.agency_id == agency_id)
    return [instance_info(row) for row in db.session.execute(query.order_by(_pi.c.id))]


def agency_open_tasks(agency_id: int, *, limit: int = 50, offset: int = 0) -> tuple[list[HumanTaskInfo], int]:
    """Every open step of the agency, soonest due first (a system account's view: it holds none itself)."""
    base = select(_ht).where(_ht.c.agency_id == agency_id, _ht.c.state == "open")
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db.session.connection().execute(
        base.order_by(_ht.c.due_at.is_(None), _ht.c.due_at, _ht.c.id).limit(max(1, min(limit, 200)))
        .offset(max(0, offset)))
    return [task_info(row) for row in rows], int(total)
