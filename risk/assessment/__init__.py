"""The risk assessment and action plan (risk/ part 2), fed by the incident trends.

An assessment belongs to a unit (and its subtree), optionally one kind of work. Its
content is versioned: a draft is edited, put under review and approved; an approved
version is frozen, and a change starts a new version that copies its items. The action
plan (measures and their evaluations) is one living list per assessment, tied to items by
their stable reference (R1, R2, …), so it survives new versions. Re-assessment triggers
come from incidents in an item's scope, a rising trend, a passed review date and a
measure that did not work (risk.assessment.triggers). Nothing here decrypts anything.
"""
