"""Cases: the subjects of processes an agency created without code (a request, a proposal, a procedure)."""
