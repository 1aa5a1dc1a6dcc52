"""Liên thông: every edXML message this deployment sends or receives, whoever the other side is.

A domain package below ``documents``: it knows messages (bytes, DocumentId, sender and recipient mã định danh,
kind), never documents. ``documents`` decides what to send and registers what a received message means
(``register_handler``); ``app.interchange`` formats; the connectors (``app.axis`` and ``connectors``) only
move bytes.

    outbox   enqueue(...) in the caller's transaction; due_ids / claim / transmit / settle for the job
             `interchange.send_outbox`
    inbox    receive(bytes, ...): parse, refuse with a status 02, or hand over once per (DocumentId, sender,
             recipient, kind)
    hub      this deployment as the province's axis (LGSP) for other systems: accept, hold, poll, ack
"""
