"""Notifications: the outbox, e-mail delivery, the scheduler tick and users' preferences.

Domain packages (reporting, handling) ask for a notification with one call,
`notifications.service.notify(kind, recipients, key=..., link=...)`, inside the
transaction of the change that caused it; the tick delivers it after commit. This
package imports only the kernel: what it knows of cases and deadlines it is given by
jobs that the domain packages register (`notifications.scheduler.register_job`).
"""
