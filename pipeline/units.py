"""Unit spellings and conversions, from ``resources/units.json``.

Criteria and notes write the same quantity in many ways ("1.5×109/L",
"1500/mm3", "1.5 K/uL"); the matcher compares numbers only after both sides are
in one canonical unit. Conversions are linear factors; a conversion may be
restricted to some measures (mg/dL -> umol/L differs for bilirubin and
creatinine because their molar masses differ).
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict

from pipeline.resources import load_json


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitSpec(_Strict):
    unit: str
    aliases: list[str]


class Conversion(_Strict):
    source: str
    target: str
    factor: float
    measures: list[str] | None = None


class UnitTable(_Strict):
    units: list[UnitSpec]
    conversions: list[Conversion]


@cache
def _table() -> UnitTable:
    return load_json("units.json", UnitTable)


@cache
def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in _table().units:
        out[_key(spec.unit)] = spec.unit
        for alias in spec.aliases:
            out[_key(alias)] = spec.unit
    return out


def _key(text: str) -> str:
    return " ".join(text.lower().replace("µ", "u").replace("μ", "u").split())


def canonical_unit(text: str) -> str | None:
    """The canonical spelling of a unit (``"×109/L"`` -> ``"10^9/L"``), or None."""
    key = _key(text)
    return _aliases().get(key) or _aliases().get(key.replace(" ", ""))


def convert(
    value: float, source: str, target: str, measure: str | None = None
) -> float | None:
    """``value`` in ``source`` units expressed in ``target`` units.

    Returns None when no conversion is known, so callers can report the
    mismatch instead of comparing numbers in different units.
    """
    if source == target:
        return value
    for conv in _table().conversions:
        if conv.measures is not None and measure not in conv.measures:
            continue
        if conv.source == source and conv.target == target:
            return value * conv.factor
        if conv.source == target and conv.target == source:
            return value / conv.factor
    return None
