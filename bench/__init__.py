"""Benchmarks (`make bench`), not part of `make test`.

`python -m bench` measures report intake through the JSON API under gunicorn on
PostgreSQL against a bare WSGI function that inserts a row of the same size, on the same
machine, and prints both throughputs, their ratio, latency and worker memory.
"""
