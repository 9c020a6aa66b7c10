"""Risk: incident trends that identify no one (and, later, the risk assessment).

Reads class-S columns of reports and cases only, never decrypts anything, and publishes
every figure through risk.statistics. Nothing imports this package but trygg/app.py.
"""
