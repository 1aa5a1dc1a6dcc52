"""Blinker signals: domains announce, others subscribe in their own package (no cross-imports)."""

from blinker import Namespace

_signals = Namespace()

agency_imported = _signals.signal("agency-imported")
document_registered = _signals.signal("document-registered")
document_issued = _signals.signal("document-issued")
document_delivered = _signals.signal("document-delivered")
# A recipient's status as the sender sees it changed (arrived, registered, assigned, …, returned, recalled).
delivery_status_changed = _signals.signal("delivery-status-changed")
document_returned = _signals.signal("document-returned")  # a recipient sent a delivered copy back
document_recalled = _signals.signal("document-recalled")  # the issuer recalled an issued document
task_opened = _signals.signal("task-opened")
task_completed = _signals.signal("task-completed")
instance_completed = _signals.signal("instance-completed")

# The audit log (app.accounts subscribes): send(kind="document_viewed", agency_id=…, user_id=…,
# target_type="document", target_id=…, message=…, detail={...}); who/where default to the request's origin.
audit = _signals.signal("audit")
