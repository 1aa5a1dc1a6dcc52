"""What each job does: one service call, then one commit (per e-mail for delivery). Needs an app context."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.extensions import db

log = logging.getLogger("qlvb.jobs")


def _committed(fn: Callable[[], int]) -> int:
    try:
        result = fn()
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        raise


def fire_due_timers() -> int:
    """Let BPMN timers that came due move their instances on, each in its own transaction.

    One instance that fails (a broken condition, an operation that raises, a corrupt state) becomes an
    incident for its agency's admin and is no longer retried every minute; the others still fire."""
    from app.workflow import incidents
    from app.workflow.services import due_timer_instance_ids

    fired = 0
    for instance_id in _committed(due_timer_instance_ids):
        try:
            _committed(lambda instance_id=instance_id: incidents.fire_timer(instance_id))
            fired += 1
        except Exception as exc:  # any failure of one instance must not stop the others
            _committed(lambda instance_id=instance_id, exc=exc: incidents.record_failure(instance_id, exc))
    return fired


def send_due_reminders() -> int:
    from app.notifications.reminders import send_due_reminders as remind

    return _committed(remind)


def announce_notices() -> int:
    """Tell the people of every step opened since the last run (task-opened notices after the commit)."""
    from app.notifications.subscribers import announce_pending

    return _committed(announce_pending)


def send_opinion_reminders() -> int:
    """Remind reviewers who have not answered an opinion request due within a day."""
    from app.opinions.services import send_opinion_reminders as remind

    return _committed(remind)


def send_deposit_reminders() -> int:
    """Remind whoever keeps a closed work dossier 30 days before its deposit is due, and once overdue."""
    from app.notifications.deposits import send_deposit_reminders as remind

    return _committed(remind)


def notify_delegations() -> int:
    """Tell deputies whose delegation (ủy quyền) starts today."""
    from app.delegations.services import notify_started

    return _committed(notify_started)


def deliver_email(outbox_id: int | None = None) -> int:
    """Send one queued message, or every due one; each is committed as soon as SMTP accepted it.

    This node decides (app.notifications.mail): without SMTP here the messages stay queued; with mail off for the
    province they are cancelled."""
    from app.notifications.mail import deliver_one, deliverable_ids

    if outbox_id is not None:
        ids = [outbox_id]
    else:
        ids = deliverable_ids()
        db.session.commit()  # cancellations of a province with mail switched off
    sent = 0
    for one in ids:
        sent += _committed(lambda one=one: int(deliver_one(one) == "sent"))
    return sent


def send_outbox(outbox_id: int | None = None) -> int:
    """Send every due edXML message (or one), each committed on its own: a failure only delays that one.
    A message for an external axis crosses the network with no transaction open (no lock held meanwhile)."""
    from app.liaison.services import claim, due_ids, settle, transmit

    ids = [outbox_id] if outbox_id is not None else due_ids()
    db.session.rollback()  # end the read: on SQLite it would hold the lock the sends need
    sent = 0
    for one in ids:
        try:
            item = claim(one)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        if isinstance(item, str):
            sent += int(item == "sent")
            continue
        outcome = transmit(item)
        sent += _committed(lambda one=one, outcome=outcome: int(settle(one, outcome) == "sent"))
    return sent


def poll_axis() -> int:
    """Fetch what the external axis holds for our agencies; each is received and committed, then acknowledged
    (a lost acknowledgement only brings a duplicate next time, which the inbox recognises)."""
    from app.axis import AxisUnavailableError
    from app.liaison.services import ack_external, poll_external, receive

    try:
        messages = poll_external()
    except AxisUnavailableError as error:
        log.warning("axis poll: %s", error.log)
        return 0
    received = 0
    for message in messages:
        try:
            _committed(lambda m=message: int(bool(receive(m.payload, recipient_org=m.recipient_org, via="http"))))
            ack_external(message.id)
            received += 1
        except AxisUnavailableError as error:
            log.warning("axis ack of %s: %s", message.id, error.log)
        except Exception:  # one bad message must not stop the others; it stays on the axis
            log.exception("axis message %s could not be received", message.id)
    return received


def poll_mailboxes(dispatch: Callable[[int], object] | None = None) -> int:
    """One job per agency mailbox whose lease is free: queued through ``dispatch`` under Celery, run here in
    turn by the embedded scheduler. Returns how many documents were received (or mailboxes queued)."""
    from app.intake.services import due_mailbox_ids

    ids = due_mailbox_ids()
    db.session.rollback()
    if dispatch is not None:
        for one in ids:
            dispatch(one)
        return len(ids)
    return sum(poll_mailbox(one) for one in ids)


def poll_mailbox(mailbox_id: int) -> int:
    """Read one mailbox's unseen messages: each is recorded and committed, then moved to the processed folder.

    The lease makes a second worker skip the mailbox; no transaction stays open while the server talks."""
    from sqlalchemy.exc import IntegrityError

    from app.core.errors import DomainError
    from app.intake import services as intake
    from app.intake.imap import ImapMailbox

    token = _committed(lambda: intake.claim_mailbox(mailbox_id))  # type: ignore[arg-type,return-value]
    if token is None:
        log.info("mailbox %s: another worker is reading it", mailbox_id)
        return 0
    received, error = 0, None
    try:
        access = intake.access_of(mailbox_id)
        db.session.rollback()
        with ImapMailbox(access) as box:
            for uid in box.unseen(limit=intake.BATCH):
                fetched = box.fetch(uid, intake.max_message_bytes())
                if fetched is None:
                    continue
                try:
                    taken = _committed(lambda f=fetched: intake.take_message(mailbox_id, f))  # type: ignore[arg-type,return-value]
                except IntegrityError:
                    log.info("mailbox %s: message uid %s recorded by another worker", mailbox_id, uid)
                    continue
                box.settle(uid, refused=taken.result == "refused")
                received += int(taken.result == "accepted")
    except DomainError as exc:
        db.session.rollback()
        error = exc.message
        log.error("mailbox %s: %s", mailbox_id, exc.log)
    finally:
        _committed(lambda: intake.release_mailbox(mailbox_id, token, error=error) or 0)
    return received


# name -> body, as Celery knows them and as the embedded scheduler runs them (in this order).
PERIODIC: dict[str, Callable[[], int]] = {
    "workflow.fire_due_timers": fire_due_timers,
    "notifications.announce_pending": announce_notices,
    "notifications.send_due_reminders": send_due_reminders,
    "opinions.send_reminders": send_opinion_reminders,
    "dossiers.send_deposit_reminders": send_deposit_reminders,
    "delegations.notify_started": notify_delegations,
    "notifications.deliver_email": deliver_email,
    "interchange.send_outbox": send_outbox,
    "interchange.poll_axis": poll_axis,
    "intake.poll_mailboxes": poll_mailboxes,
}
