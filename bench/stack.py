"""The prescribed stack with nothing of Trygg: Flask and Flask-SQLAlchemy storing the body.

The same work as bench/baseline.py (one INSERT of the body, one COMMIT, a 201 with the
id), written as a Flask view over a Flask-SQLAlchemy session. Its ratio against the bare
function is the most any endpoint on this stack can reach, before sessions, CSRF,
validation, encryption, case opening and the audit log add their cost.
"""

from __future__ import annotations

import os

from flask import Flask, Response, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

db = SQLAlchemy()
INSERT = text("INSERT INTO bench_row (body) VALUES (:body) RETURNING id")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    db.init_app(app)

    @app.post("/")
    def store() -> tuple[Response, int]:
        body = request.get_data(as_text=True)
        row_id = db.session.execute(INSERT, {"body": body}).scalar_one()
        db.session.commit()
        return jsonify({"id": row_id}), 201

    return app


app = create_app()
