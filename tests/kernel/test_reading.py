"""trygg.reading: an answer is kept for one reading request, never for the next one."""

from __future__ import annotations

from trygg.reading import once_per_reading_request


def test_an_answer_is_not_kept_into_the_next_request_in_the_same_app_context(app):
    """`flask.g` belongs to the app context, which a request only pushes when none is
    pushed yet: a caller (a test, a script) that holds one sees each request share `g`."""
    asked: list[int] = []

    def compute() -> int:
        asked.append(1)
        return len(asked)

    with app.app_context():
        with app.test_request_context("/"):
            assert once_per_reading_request("t", 1, compute) == 1
            assert once_per_reading_request("t", 1, compute) == 1
        with app.test_request_context("/"):
            assert once_per_reading_request("t", 1, compute) == 2
