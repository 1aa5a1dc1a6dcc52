"""Agencies, host resolution and org structure (departments, positions, staff)."""
