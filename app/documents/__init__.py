"""Incoming and outgoing documents: registers and numbering (Decree 30), attachments, output, signatures."""
