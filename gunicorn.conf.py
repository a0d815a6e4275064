"""The web server's settings: one file for production (Dockerfile, docker-compose) and for the
browser tests and benchmarks, which start it with this file so they measure what runs live.

A command line's options override these (`--workers`, `--threads`, `--bind`).
"""

import os

# Threaded workers: a request waiting on PostgreSQL, Redis or InfinitePay's WSDL leaves its
# process's other threads serving, where a sync worker would stand idle.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "8"))
