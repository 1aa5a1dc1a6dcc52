"""Assigned work (giao việc): a leader assigns, the lead person reports and asks for more time, the leader evaluates.

The steps run on the agency's ``task_assignment`` diagram; the rows here are what the pages show
(progress, reports, extensions, links) and change in the same transaction as each workflow step.
"""
