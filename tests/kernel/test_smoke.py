from tests.factories import api_login, csrf_token, form_login
from trygg.roles import Role


def test_health_reports_database_and_keyring(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in ("db", "keyring")} == {"db": "ok", "keyring": "ok"}
    # Informative, not deciding the status: the scheduler's last tick, the e-mail backlog.
    assert set(body) == {"db", "keyring", "scheduler", "outbox"}


def test_employee_logs_in_through_the_api_and_sees_their_roles(client, make):
    unit = make.unit("Akutten")
    user = make.user(Role.EMPLOYEE, units=(unit,))
    api_login(client, user)
    me = client.get("/api/v1/me").get_json()
    assert me["email"] == user.email
    assert me["roles"] == [Role.EMPLOYEE]
    assert me["units"] == [{"id": unit.id, "name": "Akutten", "is_manager": False}]


def test_handler_logs_in_through_the_page_with_a_code(client, make):
    user = make.user(Role.HANDLER)
    form_login(client, user)
    page = client.get("/account")
    assert page.status_code == 200
    assert 'id="h-2fa"' in page.get_data(as_text=True)


def test_wrong_password_gets_one_generic_message(client, make):
    user = make.user(Role.EMPLOYEE)
    token = csrf_token(client)
    wrong = client.post(
        "/api/v1/session",
        json={"email": user.email, "password": "nope"},
        headers={"X-CSRFToken": token},
    )
    unknown = client.post(
        "/api/v1/session",
        json={"email": "nobody@example.org", "password": "nope"},
        headers={"X-CSRFToken": token},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
