"""Intake: the employee's incident form, attachments, receipts and "My reports"."""
