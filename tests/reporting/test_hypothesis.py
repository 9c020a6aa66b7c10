"""Any JSON object either stores a report (201) or gets a 4xx with messages: never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reporting import codes
from reporting.schemas import ReportSchema
from tests.reporting.support import post_report, valid_report

KEYS = sorted(ReportSchema().fields)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-3, max_value=10)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(
        [
            *codes.INCIDENT_TYPES,
            *codes.PLACE_TYPES,
            *codes.COUNTERPARTS,
            "none",
            "named",
            "2026-13-01T00:00:00+01:00",
            (datetime.now(UTC) - timedelta(days=3)).isoformat(),
            "\ud800",
            "\x00",
            "x" * 2500,
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["name", "user_id", "x"]) | st.text(max_size=5), children, max_size=4
        )
    ),
    max_leaves=12,
)
random_objects = st.dictionaries(
    st.sampled_from([*KEYS, "unknown", ""]) | st.text(max_size=8), json_values, max_size=12
)


@st.composite
def almost_valid(draw: st.DrawFn, unit_id: int) -> dict:
    """A valid report with a few fields replaced, removed or added."""
    body = valid_report(unit_id)
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=3, unique=True)):
        if draw(st.booleans()):
            body[key] = draw(json_values)
        else:
            body.pop(key, None)
    return body


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_json_object_is_stored_or_refused_never_a_500(client, reporter, data):
    body = data.draw(random_objects | almost_valid(reporter.unit.id))
    response = post_report(client, body)
    assert response.status_code in {201, 400, 413, 415}, (body, response.get_data(as_text=True))
    event(f"status {response.status_code}")
    answer = response.get_json()
    if response.status_code == 201:
        assert set(answer) == {"id", "reference", "status"}
    else:
        assert answer["errors"]
        assert all(isinstance(v, (list, dict)) for v in answer["errors"].values())
