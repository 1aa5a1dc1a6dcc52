"""Background jobs: the Celery app, thin task modules, and the embedded scheduler of `make run`.

Every job is a function in ``bodies`` (primitive arguments, one service call, then commit); Celery
tasks and the embedded thread both call those functions, so the two ways of running never differ.
"""
