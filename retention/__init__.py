"""The end of a case's life: retention policies, legal holds, deletion that really
deletes (crypto-shredding), the warning before it and the daily run.

It sits above handling in the import order (like risk): it reads case and report rows
to decide what is due, and asks reporting's and handling's erasure modules to destroy
their own rows (reporting/erasure.py, handling/erasure.py). Nothing imports it except the
composition root (trygg/app.py).
"""
