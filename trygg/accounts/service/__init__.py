"""Account operations: users, passwords, logins, throttling and two-factor.

Used by the login pages, the JSON API, the admin pages and the CLI alike. Operations
take plain data, raise domain exceptions, add and flush; the caller commits. The
operations live in one module per sub-domain (users, login, sessions, sign_ins,
two_factor, passwords, password_codes); this package is the one name callers import them by.
"""

from __future__ import annotations

from trygg.accounts.errors import AccountError, LoginFailed, SecondFactorNeeded, Throttled
from trygg.accounts.models import ROLES, User
from trygg.accounts.service.login import (
    authenticate,
    check_second_factor,
    complete_login,
    throttle_wait,
)
from trygg.accounts.service.password_codes import CodeExpired, IssuedCode, reset_two_factor
from trygg.accounts.service.password_codes import issue as issue_password_code
from trygg.accounts.service.password_codes import redeem as redeem_password_code
from trygg.accounts.service.passwords import check_password_rules, hash_password
from trygg.accounts.service.sessions import load_pending_user, load_session_user
from trygg.accounts.service.sign_ins import recent as recent_sign_ins
from trygg.accounts.service.two_factor import (
    Enrolment,
    confirm_enrolment,
    start_enrolment,
    two_factor_required,
    verify_totp,
)
from trygg.accounts.service.users import (
    Person,
    check_roles,
    create_user,
    deactivate_user,
    end_all_sessions,
    erase_user,
    find_user,
    get_user,
    list_users,
    managers_of,
    normalise_email,
    reads_cases,
    reset_by_mail,
    safety_reps_of,
    set_password,
    update_user,
    users_page,
    users_with_roles,
)

__all__ = [
    "check_roles",
    "ROLES",
    "AccountError",
    "CodeExpired",
    "Enrolment",
    "IssuedCode",
    "LoginFailed",
    "SecondFactorNeeded",
    "Throttled",
    "User",
    "authenticate",
    "check_password_rules",
    "check_second_factor",
    "complete_login",
    "confirm_enrolment",
    "create_user",
    "deactivate_user",
    "erase_user",
    "end_all_sessions",
    "find_user",
    "get_user",
    "hash_password",
    "issue_password_code",
    "list_users",
    "managers_of",
    "safety_reps_of",
    "users_page",
    "Person",
    "users_with_roles",
    "load_pending_user",
    "load_session_user",
    "normalise_email",
    "reads_cases",
    "recent_sign_ins",
    "reset_by_mail",
    "redeem_password_code",
    "reset_two_factor",
    "set_password",
    "start_enrolment",
    "throttle_wait",
    "two_factor_required",
    "update_user",
    "verify_totp",
]
