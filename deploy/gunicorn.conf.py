"""gunicorn settings of a QLVB web node: `gunicorn -c deploy/gunicorn.conf.py 'app:create_app()'`.

Each value can be changed in /etc/qlvb/qlvb.env (QLVB_BIND, QLVB_WORKERS, QLVB_THREADS) or on the command line.
With several workers, Prometheus counters are kept per process in PROMETHEUS_MULTIPROC_DIR (one empty folder per
host, shared with the Celery worker of that host) and added up at each scrape; ``child_exit`` tells the library a
worker is gone.
"""

import os

bind = os.environ.get("QLVB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("QLVB_WORKERS", "4"))
threads = int(os.environ.get("QLVB_THREADS", "8"))
timeout = 120
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (memory of long-lived PDF rendering); the jitter keeps them from restarting together.
max_requests = 5000
max_requests_jitter = 500
# With JSON logs the app writes one access line per request itself (with the request id); else gunicorn does.
accesslog = None if os.environ.get("QLVB_LOG_FORMAT", "text") == "json" else "-"
errorlog = "-"
# X-Forwarded-Proto from the local nginx sets wsgi.url_scheme; the client address is the app's (ProxyFix) business.
forwarded_allow_ips = os.environ.get("QLVB_GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def child_exit(server, worker):  # noqa: ARG001  (gunicorn's hook signature)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


if os.environ.get("QLVB_LOG_FORMAT", "text") == "json":
    # gunicorn's own lines (start, worker boot and exit, timeouts) in the app's JSON format too: one collector
    # parser for the whole journal. The app's loggers get their handler from create_app.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.core.logs.formatter", "fmt": "json"}},
        "filters": {"request_id": {"()": "app.core.logs.RequestIdFilter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"],
                                "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
    }
