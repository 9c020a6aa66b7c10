"""The risk matrix as data: 5 × 5 by default, 3 × 3 and 4 × 4 available.

A level is found from the score (likelihood × consequence): the highest level whose
`min_score` the score reaches. Each level has a name, a colour, a pattern and what it
demands, in nb and en, shown in the reader's language; the page always prints the name
beside the colour, and the pattern tells the levels apart without colour. Admins may
rename, recolour and re-word levels (in both languages) and move their thresholds
(risk_level rows); a preset without rows uses the defaults below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import LazyString, force_locale, get_locale
from sqlalchemy import delete, select

from risk.assessment.models import RiskLevel
from trygg.extensions import db
from trygg.i18n import lazy_gettext as _l

SIZES = (3, 4, 5)
DEFAULT_SIZE = 5
PATTERNS = ("plain", "dots", "stripes", "cross")
BAD_COLOUR = _l("Give each colour as #rrggbb.")
BOTH_NAMES = _l("Give each level a name in Norwegian and in English.")

LIKELIHOOD_LABELS: dict[int, list[LazyString]] = {
    3: [_l("Unlikely"), _l("Possible"), _l("Likely")],
    4: [_l("Unlikely"), _l("Possible"), _l("Likely"), _l("Very likely")],
    5: [_l("Very unlikely"), _l("Unlikely"), _l("Possible"), _l("Likely"), _l("Very likely")],
}
CONSEQUENCE_LABELS: dict[int, list[LazyString]] = {
    3: [_l("Minor"), _l("Serious"), _l("Very serious")],
    4: [_l("Minor"), _l("Moderate"), _l("Serious"), _l("Very serious")],
    5: [_l("Insignificant"), _l("Minor"), _l("Moderate"), _l("Serious"), _l("Very serious")],
}

_NAMES = [_l("Low"), _l("Moderate"), _l("High"), _l("Very high")]
_DEMANDS = [
    _l("Acceptable: keep the measures in place and follow up"),
    _l("Measures within 6 months"),
    _l("Measures within 3 months"),
    _l("Measures before work continues"),
]
_COLOURS = ["#d4edda", "#fff3b0", "#ffd2a8", "#f5b7b1"]
# Per preset: the lowest score of each level, lowest level first.
_THRESHOLDS = {3: [1, 3, 6], 4: [1, 4, 8, 12], 5: [1, 5, 10, 17]}


def _in_language(nb: str, en: str) -> str:
    """The text in the reader's language (the other if that one is empty)."""
    locale = get_locale()
    if locale is not None and locale.language == "en":
        return en or nb
    return nb or en


@dataclass(frozen=True)
class Level:
    rank: int
    min_score: int
    name_nb: str
    name_en: str
    demand_nb: str
    demand_en: str
    colour: str

    @property
    def name(self) -> str:
        return _in_language(self.name_nb, self.name_en)

    @property
    def demand(self) -> str:
        return _in_language(self.demand_nb, self.demand_en)

    @property
    def pattern(self) -> str:
        return PATTERNS[min(self.rank, len(PATTERNS) - 1)]


class MatrixError(Exception):
    """Admin input for the levels was refused; `field` names it."""

    def __init__(self, message: object, field: str = "_request") -> None:
        super().__init__(message)
        self.field = field


def default_levels(size: int) -> list[Level]:
    """The preset's levels as shipped."""
    thresholds = _THRESHOLDS[size]
    # Three levels: low, moderate and the top one (measures before work continues).
    names = [0, 1, 3] if len(thresholds) == 3 else [0, 1, 2, 3]
    texts = {}
    for lang in ("nb", "en"):
        with force_locale(lang):
            texts[lang] = ([str(n) for n in _NAMES], [str(d) for d in _DEMANDS])
    out = []
    for rank, min_score in enumerate(thresholds):
        at = names[rank]
        nb_names, nb_demands = texts["nb"]
        en_names, en_demands = texts["en"]
        out.append(
            Level(
                rank,
                min_score,
                nb_names[at],
                en_names[at],
                nb_demands[at],
                en_demands[at],
                _COLOURS[at],
            )
        )
    return out


def levels(size: int) -> list[Level]:
    """The levels in use for a preset: the admin's, else the defaults."""
    rows = db.session.scalars(
        select(RiskLevel).where(RiskLevel.size == size).order_by(RiskLevel.rank)
    ).all()
    if not rows:
        return default_levels(size)
    return [
        Level(r.rank, r.min_score, r.name_nb, r.name_en, r.demand_nb, r.demand_en, r.colour)
        for r in rows
    ]


def level_of(likelihood: int | None, consequence: int | None, table: list[Level]) -> Level | None:
    """The level of a score on a preset's levels (None if either value is missing)."""
    if likelihood is None or consequence is None:
        return None
    score = likelihood * consequence
    found = table[0]
    for level in table:
        if score >= level.min_score:
            found = level
    return found


def check_values(size: int, likelihood: int | None, consequence: int | None) -> None:
    if size not in SIZES:
        raise MatrixError(_l("Choose a matrix of 3, 4 or 5 steps."), "matrix_size")
    for name, value in (("likelihood", likelihood), ("consequence", consequence)):
        if value is not None and not 1 <= value <= size:
            raise MatrixError(_l("Choose a value from 1 to %(n)s.", n=size), name)


def contrast_with_black(colour: str) -> float:
    """WCAG contrast ratio of black text on `colour` (#rrggbb)."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return (luminance + 0.05) / 0.05


def save_levels(size: int, rows: list[dict[str, object]]) -> list[Level]:
    """Replace a preset's levels (rank order): thresholds rise from 1, colours readable,
    a name in both languages."""
    if size not in SIZES:
        raise MatrixError(_l("Choose a matrix of 3, 4 or 5 steps."), "size")
    if not 2 <= len(rows) <= 4:
        raise MatrixError(_l("A matrix has from 2 to 4 levels."), "levels")
    previous = 0
    out = []
    for rank, row in enumerate(rows):
        if not str(row["name_nb"]).strip() or not str(row["name_en"]).strip():
            raise MatrixError(BOTH_NAMES, "levels")
        min_score = int(row["min_score"])  # type: ignore[call-overload]
        if (rank == 0 and min_score != 1) or min_score <= previous or min_score > size * size:
            raise MatrixError(
                _l("Thresholds start at 1 and rise, up to %(n)s.", n=size * size), "levels"
            )
        colour = str(row["colour"])
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
            raise MatrixError(BAD_COLOUR, "levels")
        if contrast_with_black(colour) < 4.5:
            raise MatrixError(
                _l("The colour %(c)s is too dark for black text to be read on it.", c=colour),
                "levels",
            )
        previous = min_score
        out.append(
            Level(
                rank,
                min_score,
                str(row["name_nb"]),
                str(row["name_en"]),
                str(row["demand_nb"]),
                str(row["demand_en"]),
                colour,
            )
        )
    db.session.execute(delete(RiskLevel).where(RiskLevel.size == size))
    for level in out:
        db.session.add(
            RiskLevel(
                size=size,
                rank=level.rank,
                min_score=level.min_score,
                colour=level.colour,
                name_nb=level.name_nb,
                name_en=level.name_en,
                demand_nb=level.demand_nb,
                demand_en=level.demand_en,
            )
        )
    db.session.flush()
    return out
