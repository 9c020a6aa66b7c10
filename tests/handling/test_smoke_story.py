"""The whole story through the JSON API: report, handle, talk, close."""

from datetime import date

from handling.states import CaseState, Track
from reporting.codes import ReportStatus


def test_threat_from_patient_is_handled_to_the_end(app, org, submit, api):
    case = submit(org.employee, unit_id=org.ward.id)
    assert case.group_id == org.hms
    assert case.track == Track.HMS_DEVIATION

    handler = api(org.handler)
    queue = handler.get("/api/v1/cases").get_json()
    assert [c["id"] for c in queue["cases"]] == [case.id]

    base = f"/api/v1/cases/{case.id}"
    detail = handler.get(base)
    assert detail.status_code == 200, detail.get_json()
    body = detail.get_json()
    assert body["report"]["narrative"].startswith("The patient threatened")
    kinds = {d["kind"] for d in body["deadlines"]}
    assert {"acknowledge", "leader_contact", "learning_review", "reporter_feedback"} <= kinds

    r = handler.post(base + "/transitions", {"to": CaseState.ACKNOWLEDGED})
    assert r.status_code == 200, r.get_json()
    r = handler.post(
        base + "/transitions",
        {"to": CaseState.TRIAGED, "track": Track.HMS_DEVIATION, "section_5_2": False},
    )
    assert r.status_code == 200, r.get_json()
    r = handler.post(base + "/transitions", {"to": CaseState.IN_PROGRESS})
    assert r.status_code == 200, r.get_json()

    r = handler.post(
        base + "/tasks", {"template": "leader_contact", "responsible_user_id": org.manager.id}
    )
    assert r.status_code == 201, r.get_json()
    task_id = r.get_json()["id"]
    r = handler.patch(f"{base}/tasks/{task_id}", {"status": "done", "note": "Called her."})
    assert r.status_code == 200, r.get_json()
    r = handler.post(
        base + "/debriefing",
        {
            "held_on": date.today().isoformat(),
            "participant_roles": ["exposed_employee", "leader"],
            "outcome": "Two on shift.",
        },
    )
    assert r.status_code == 201, r.get_json()

    r = handler.post(base + "/messages", {"body": "How are you doing?"})
    assert r.status_code == 201, r.get_json()
    r = handler.post(base + "/messages", {"body": "Internal: check staffing", "internal": True})
    assert r.status_code == 201

    reporter = api(org.employee)
    mine = reporter.get(f"/api/v1/reports/{case.report_id}/messages")
    assert mine.status_code == 200, mine.get_json()
    bodies = [m["body"] for m in mine.get_json()["messages"]]
    assert bodies == ["How are you doing?"]
    r = reporter.post(f"/api/v1/reports/{case.report_id}/messages", {"body": "Better, thanks."})
    assert r.status_code == 201, r.get_json()

    r = handler.post(
        base + "/transitions",
        {
            "to": CaseState.CLOSED,
            "closing_note": "Done.",
            "causes": ["staffing"],
            "feedback": "We added staff.",
        },
    )
    assert r.status_code == 200, r.get_json()
    mine = reporter.get(f"/api/v1/reports/{case.report_id}/messages").get_json()
    assert mine["state"] == CaseState.CLOSED
    assert mine["status"] == ReportStatus.CLOSED
    assert mine["feedback"] == "We added staff."
    assert [m["body"] for m in mine["messages"]] == ["How are you doing?", "Better, thanks."]
