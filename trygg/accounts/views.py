"""Login, logout, two-factor and the user's own account page."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.wrappers.response import Response

from trygg.accounts import service
from trygg.accounts.schemas import (
    LoginSchema,
    OtpSchema,
    PasswordChangeSchema,
    SetPasswordSchema,
)
from trygg.audit import actor_label
from trygg.extensions import db
from trygg.i18n import gettext as _
from trygg.security import allow, fresh_session, log_in, log_out, public
from trygg.validation import flatten_errors, translate_errors
from trygg.web import is_safe_next, landing_url

bp = Blueprint("accounts", __name__, template_folder="templates")

PENDING_KEY = "pending_2fa_user"


def _form_data(*names: str) -> dict[str, Any]:
    return {name: request.form.get(name, "") for name in names}


def _after_login_target() -> str:
    target = request.args.get("next") or request.form.get("next")
    return target if target and is_safe_next(target) else landing_url(current_user)


def _generic_failure() -> str:
    return _("Wrong e-mail address, password or code.")


def _throttled_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return _("Too many failed attempts. Wait %(minutes)s minutes and try again.", minutes=minutes)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response | tuple[str, int]:
    """Log in with e-mail and password (then a code, for two-factor users)."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_after_login_target())
    error = None
    email = ""
    status = 200
    if request.method == "POST":
        data = _form_data("email", "password")
        email = data["email"]
        try:
            creds = LoginSchema().load(data)
            user = service.authenticate(creds["email"], creds["password"])
        except ValidationError:
            error, status = _generic_failure(), 400
        except service.Throttled as exc:
            error, status = _throttled_message(exc.retry_after), 429
        except service.LoginFailed:
            error, status = _generic_failure(), 401
        except service.SecondFactorNeeded as exc:
            db.session.commit()
            fresh_session()
            session[PENDING_KEY] = exc.user.get_id()
            return redirect(url_for("accounts.login_code", next=request.args.get("next")))
        else:
            log_in(user)
            db.session.commit()
            return redirect(_after_login_target())
        # Keep the failure counter even though the response is an error.
        db.session.commit()
    return render_template("accounts/login.html", error=error, email=email), status


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code() -> str | Response | tuple[str, int]:
    """The second step: the code from the authenticator app."""
    pending = session.get(PENDING_KEY)
    user = service.load_pending_user(pending) if pending else None
    if user is None:
        return redirect(url_for("accounts.login"))
    error = None
    status = 200
    if request.method == "POST":
        try:
            code = OtpSchema().load(_form_data("otp"))["otp"]
            service.check_second_factor(user, code)
        except ValidationError:
            error, status = _generic_failure(), 400
        except service.Throttled as exc:
            error, status = _throttled_message(exc.retry_after), 429
        except service.LoginFailed:
            error, status = _generic_failure(), 401
        else:
            log_in(user)
            db.session.commit()
            return redirect(_after_login_target())
        db.session.commit()
    return render_template("accounts/login_code.html", error=error), status


@bp.route("/account/set-password", methods=["GET", "POST"])
@public
def set_password() -> str | Response | tuple[str, int]:
    """Choose one's own password with a set-password code from an administrator."""
    form = {"email": "", "code": ""}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        data = _form_data("email", "code", "new_password")
        form = {"email": data["email"], "code": data["code"]}
        try:
            loaded = SetPasswordSchema().load(data)
            service.redeem_password_code(loaded["email"], loaded["code"], loaded["new_password"])
        except ValidationError as exc:
            errors, status = flatten_errors(translate_errors(exc.messages)), 400
        except service.AccountError as exc:
            # The service names its field "password"; on this form it is the new one.
            errors, status = {"new_password": [str(exc)]}, 400
        except service.Throttled as exc:
            errors, status = {"_request": [_throttled_message(exc.retry_after)]}, 429
        except service.CodeExpired as exc:
            errors, status = {"code": [str(exc.message)]}, 401
        except service.LoginFailed:
            message = _("The e-mail address or the code is not right.")
            errors, status = {"_request": [message]}, 401
        else:
            db.session.commit()
            return redirect(url_for("accounts.login", password_set=1))
        db.session.commit()  # keep the failure counter
    return render_template("accounts/set_password.html", form=form, errors=errors), status


@bp.post("/logout")
@allow()
def logout() -> Response:
    """Log out of this browser (its session ends on the server too)."""
    log_out()
    return redirect(url_for("accounts.login", logged_out=1))


def _account_page(errors: dict[str, list[str]]) -> str:
    user = current_user._get_current_object()  # noqa: SLF001 - the real User behind the proxy
    return render_template(
        "accounts/account.html",
        two_factor_required=service.two_factor_required(user),
        sign_ins=service.recent_sign_ins(user),
        errors=errors,
    )


@bp.get("/account")
@allow()
def account() -> str:
    """The user's own account: roles, units, two-factor, sessions, password."""
    return _account_page({})


@bp.post("/account/logout-everywhere")
@allow()
def logout_everywhere() -> Response:
    """End every session of this user, on every device."""
    service.end_all_sessions(current_user, actor=actor_label(current_user))
    log_out()
    db.session.commit()
    return redirect(url_for("accounts.login", logged_out=1))


@bp.post("/account/password")
@allow()
def change_password() -> str | Response | tuple[str, int]:
    """Change the password; every other session ends."""
    errors: dict[str, list[str]] = {}
    try:
        data = PasswordChangeSchema().load(_form_data("current_password", "new_password"))
        service.authenticate(current_user.email, data["current_password"], otp=None)
    except ValidationError as exc:
        errors = flatten_errors(translate_errors(exc.messages))
    except service.SecondFactorNeeded:
        pass  # the password was right; the session already proved the second factor
    except service.Throttled as exc:
        errors = {"current_password": [_throttled_message(exc.retry_after)]}
    except service.LoginFailed:
        errors = {"current_password": [_("The current password is not right.")]}
    if not errors:
        try:
            service.set_password(
                current_user, data["new_password"], actor=actor_label(current_user)
            )
        except service.AccountError as exc:
            # The service names its field "password"; on this form it is the new one.
            errors = {"new_password": [str(exc)]}
    if errors:
        db.session.commit()  # keep the failure counter
        return _account_page(errors), 400
    user = current_user._get_current_object()  # noqa: SLF001 - the real User behind the proxy
    log_in(user)  # this browser keeps its session under the new session version
    db.session.commit()
    return redirect(url_for("accounts.account", changed=1))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@allow()
def enrol_two_factor() -> str | Response | tuple[str, int]:
    """Set up TOTP: scan the QR code, then confirm with a code."""
    if current_user.totp_enabled:
        return redirect(url_for("accounts.account"))
    error = None
    status = 200
    if request.method == "POST":
        try:
            code = OtpSchema().load(_form_data("otp"))["otp"]
            service.confirm_enrolment(current_user, code)
        except ValidationError:
            error, status = _("Enter the six digits your app shows."), 400
        except service.AccountError as exc:
            error, status = str(exc), 400
        else:
            db.session.commit()
            return redirect(url_for("accounts.account", enrolled=1))
    enrolment = service.start_enrolment(current_user)
    db.session.commit()
    return (
        render_template(
            "accounts/enrol.html",
            enrolment=enrolment,
            error=error,
            required=service.two_factor_required(current_user),
        ),
        status,
    )
