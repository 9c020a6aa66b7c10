"""Case handling: routing, workflow, deadlines, follow-up, debriefing and messages."""
