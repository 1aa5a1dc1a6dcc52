"""Ủy quyền: a leader names a deputy for a period; the deputy's inbox carries the leader's work meanwhile."""
