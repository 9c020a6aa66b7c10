"""gunicorn's settings for Trygg: `gunicorn -c config/gunicorn.conf.py 'trygg.app:create_app()'`.

Each worker warms the app and freezes what it holds before its first request (see
trygg/serving.py): the garbage collector's full pauses drop from 100 ms or more to
about 17 ms. Anything else (workers, bind, logging) is given on the command line.
"""

from trygg.serving import post_worker_init

__all__ = ["post_worker_init"]
