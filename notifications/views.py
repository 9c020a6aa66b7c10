"""Pages: the in-app list, the user's settings, and the admin's outbox and reminder lead
times. The outbox page shows counts and failed rows, never content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers.response import Response

from notifications import inbox as listing
from notifications import preferences, reminders, scheduler, service
from notifications.kinds import LABELS, READ_WHERE_SHOWN, SENTENCES, Delivery
from notifications.preferences import PreferenceError
from notifications.schemas import NotificationSettingsSchema
from trygg import paging, privacy
from trygg.accounts.models import Role, User
from trygg.forms import form_input
from trygg.i18n import gettext as _
from trygg.i18n import ngettext
from trygg.security import allow
from trygg.validation import flatten_errors, translate_errors
from trygg.web import is_safe_next

bp = Blueprint("notifications", __name__, template_folder="templates")

Page = str | tuple[str, int]


def _user() -> User:
    user: User = current_user._get_current_object()  # noqa: SLF001
    return user


def unread_badge() -> tuple[int, str] | None:
    """The header's count of unread notifications (kernel nav badge)."""
    count = listing.unread_count(_user().id)
    if not count:
        return None
    return count, ngettext("%(num)s unread", "%(num)s unread", count)


@bp.get("/notifications")
@allow()
def inbox() -> Page:
    """The user's notifications, newest first, a page at a time, unread ones marked."""
    user = _user()
    try:
        args = paging.page_args(request.args, (datetime, int))
    except ValidationError as exc:
        return paging.refused(exc)
    page = listing.page_for(user.id, limit=args.limit, after=args.after)
    more: dict[str, Any] = {"limit": args.limit} if request.args.get("limit") else {}
    return render_template(
        "notifications/list.html",
        items=page.items,
        unread=listing.unread_count(user.id),
        labels=LABELS,
        sentences=SENTENCES,
        # Discreet rows (random ids) keep only their day.
        day_only_from=privacy.RANDOM_ID_MIN,
        next_page=url_for(".inbox", **more, after=page.next_cursor) if page.next_cursor else None,
        first_page=url_for(".inbox", **more) if args.after else None,
    )


@bp.post("/notifications/<id:notification_id>/open")
@allow()
def open_notification(notification_id: int) -> Response:
    """Mark it read (unless the page it leads to does: `READ_WHERE_SHOWN`) and go to the
    page it is about."""
    try:
        row = listing.get_for(_user().id, notification_id)
        if row.kind not in READ_WHERE_SHOWN:
            row = listing.mark_read(_user().id, notification_id)
    except service.NotificationNotFound:
        abort(404)
    target = row.link if is_safe_next(row.link) else url_for(".inbox")
    return redirect(target, 303)


@bp.post("/notifications/read")
@allow()
def read_all() -> Response:
    """Mark every notification read."""
    listing.mark_all_read(_user().id)
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for(".inbox"), 303)


def _settings_form() -> dict[str, Any]:
    """The settings page as the API's schema loads it; each kind's choice is a field of
    its own on the page ("delivery-case_new"), gathered into `deliveries`."""
    deliveries = {
        key.removeprefix("delivery-"): value
        for key, value in request.form.items()
        if key.startswith("delivery-")
    }
    return form_input(NotificationSettingsSchema()) | {"deliveries": deliveries}


@bp.route("/notifications/settings", methods=["GET", "POST"])
@allow()
def settings() -> Page | Response:
    """Which notifications come by e-mail, when, in which language; away and substitute."""
    user = _user()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] | None = None
    if request.method == "POST":
        values = _settings_form()
        try:
            data = NotificationSettingsSchema().load(values)
            preferences.save_settings(user, data)
        except ValidationError as exc:
            errors = flatten_errors(translate_errors(exc.messages))
        except PreferenceError as exc:
            errors = exc.messages()
        else:
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for(".settings"), 303)
    current = preferences.settings_for(user)
    html = render_template(
        "notifications/settings.html",
        current=current,
        values=values,
        errors=errors,
        labels=LABELS,
        deliveries=[
            (Delivery.IMMEDIATE, _("At once")),
            (Delivery.DIGEST, _("In the daily summary")),
            (Delivery.OFF, _("Not by e-mail (only in Trygg)")),
        ],
        substitutes=(
            preferences.substitutes(user) if preferences.may_have_substitute(user) else None
        ),
    )
    return (html, 400) if errors else html


@bp.get("/admin/outbox")
@allow(Role.ADMIN)
def admin_outbox() -> str:
    """E-mail by state, failed rows with retry, and the scheduler's last tick."""
    return render_template(
        "notifications/admin_outbox.html",
        counts=service.outbox_counts(),
        failed=service.failed_rows(),
        backlog=service.backlog(),
        tick=scheduler.last_run(parsed=True),
        labels=LABELS,
    )


@bp.post("/admin/outbox/<id:notification_id>/retry")
@allow(Role.ADMIN)
def admin_outbox_retry(notification_id: int) -> Response:
    """Send a failed row again on the next tick."""
    try:
        service.retry(notification_id)
    except service.NotificationNotFound:
        abort(404)
    flash(_("The e-mail will be sent again within a minute."), "success")
    return redirect(url_for(".admin_outbox"), 303)


@bp.route("/admin/reminders", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_reminders() -> Page | Response:
    """How many hours before each kind of deadline its reminder goes out."""
    errors: dict[str, list[str]] = {}
    sent: dict[str, str] = {}
    if request.method == "POST":
        values: dict[str, int] = {}
        for kind in reminders.deadline_kinds():
            raw = request.form.get(f"lead-{kind}", "").strip().replace(",", ".")
            sent[kind] = raw
            try:
                values[kind] = round(float(raw) * 60)
            except (ValueError, OverflowError):  # "1e400" is infinite: no number of minutes
                errors[f"lead-{kind}"] = [_("Enter a number of hours, for example 12.")]
            else:
                # Said with the other fields' messages, not after they are put right.
                if not 0 <= values[kind] <= reminders.MAX_LEAD_MINUTES:
                    errors[f"lead-{kind}"] = [
                        _(
                            "Give a time from 0 to %(n)s hours.",
                            n=reminders.MAX_LEAD_MINUTES // 60,
                        )
                    ]
        if not errors:
            try:
                reminders.save_lead_minutes(values)
            except PreferenceError as exc:
                errors = {f"lead-{exc.field}": [str(exc.message)]}
            else:
                flash(_("The reminder times are saved."), "success")
                return redirect(url_for(".admin_reminders"), 303)
    html = render_template(
        "notifications/admin_reminders.html",
        kinds=reminders.deadline_kinds(),
        leads=reminders.lead_minutes(),
        sent=sent,
        errors=errors,
    )
    return (html, 400) if errors else html
