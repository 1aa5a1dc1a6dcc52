"""Work exchange (trao đổi): threaded messages between officials, optionally about a document or a task."""
