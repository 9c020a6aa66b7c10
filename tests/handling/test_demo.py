"""`trygg demo seed` sets up case handling: an HMS group routed everything."""

from __future__ import annotations

from handling import service


def test_demo_seed_creates_a_routed_handler_group(app, runner, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        groups = service.handler_groups()
        assert [g.name for g in groups] == ["HMS"]
        assert groups[0].is_default
        assert groups[0].is_fallback
        assert len(groups[0].member_ids) == 1
        assert [
            (r.group_id, r.unit_id, r.track, r.incident_type) for r in service.routing_rules()
        ] == [(groups[0].id, None, None, None)]
