import pytest

from pipeline.units import canonical_unit, convert


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("×109/L", "10^9/L"),
        ("x10^9/L", "10^9/L"),
        ("K/uL", "10^3/uL"),
        ("g/dL", "g/dL"),
        ("ml/min", "mL/min"),
        ("× normal upper limit (ULN)", "xULN"),
        ("mmHg", "mmHg"),
        ("furlongs", None),
    ],
)
def test_canonical_unit(text: str, unit: str | None) -> None:
    assert canonical_unit(text) == unit


@pytest.mark.parametrize(
    ("value", "source", "target", "measure", "expected"),
    [
        (9.1, "g/dL", "g/L", None, 91.0),
        (185, "10^3/uL", "10^9/L", None, 185.0),
        (1500, "/mm3", "10^9/L", None, 1.5),
        (91.0, "g/L", "g/dL", None, 9.1),
        (1.0, "mg/dL", "umol/L", "bilirubin", 17.1),
        (1.0, "mg/dL", "umol/L", "creatinine", 88.4),
        (6, "months", "days", None, 182.64),
        (1.0, "mg/dL", "umol/L", "hemoglobin", None),
    ],
)
def test_convert(value, source, target, measure, expected) -> None:
    got = convert(value, source, target, measure)
    assert got == (pytest.approx(expected) if expected is not None else None)
