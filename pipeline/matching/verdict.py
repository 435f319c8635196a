"""The rule-based patient verdict and the criterion that decides it.

* ``excluded``: an exclusion is met, or an inclusion is not met, on evidence
  from the notes or the person table (an inclusion is never failed by silence);
* ``review``: nothing excludes for certain, but an exclusion is possibly met —
  its status is ``unknown`` and its evidence holds an uncertain mention or an
  affirmed mention contradicted by a later negation;
* ``candidate``: otherwise.
"""

from __future__ import annotations

from pipeline.schema import CriterionAssessment, Verdict

VERDICT_ORDER: dict[Verdict, int] = {"candidate": 0, "review": 1, "excluded": 2}


def excludes(a: CriterionAssessment) -> bool:
    """True when this assessment excludes the patient for certain.

    Assessment never fails an inclusion on silence (an unmentioned concept
    leaves it ``unknown``), so ``not_met`` always rests on a note fact or on
    the person table (age).
    """
    if a.kind == "exclusion":
        return a.status == "met"
    return a.status == "not_met"


def possibly_excludes(a: CriterionAssessment) -> bool:
    """True for an exclusion left ``unknown`` by uncertain or conflicting evidence."""
    if a.kind != "exclusion" or a.status != "unknown":
        return False
    negated = [("negated" in e.modifiers) for e in a.evidence]
    uncertain = any("uncertain" in e.modifiers for e in a.evidence)
    return uncertain or (any(negated) and not all(negated))


def verdict(top_level: list[CriterionAssessment]) -> Verdict:
    """The verdict from the top-level criteria's assessments (module docstring)."""
    if any(excludes(a) for a in top_level):
        return "excluded"
    if any(possibly_excludes(a) for a in top_level):
        return "review"
    return "candidate"


def deciding_criterion(
    assessments: list[CriterionAssessment],
    top_ids: list[str],
    combine: dict[str, str],
) -> str | None:
    """The most specific criterion behind the verdict, first in listing order.

    ``assessments`` is depth-first (a parent precedes its sub-criteria). The
    search descends into a sub-criterion only when that one alone decides its
    parent: a met alternative of an ``any`` parent, or a failed part of an
    ``all`` parent (``exc-10.2`` rather than ``exc-10``; but ``inc-1`` when
    every alternative of inc-1 failed).
    """
    top = set(top_ids)
    by_id = {a.criterion_id: i for i, a in enumerate(assessments)}
    for test in (excludes, possibly_excludes):
        for i, a in enumerate(assessments):
            if a.criterion_id not in top or not test(a):
                continue
            chosen = a
            for b in assessments[i + 1 :]:
                if b.criterion_id in top:
                    break
                if not b.criterion_id.startswith(chosen.criterion_id + "."):
                    continue
                decisive = {"any": "met", "all": "not_met"}.get(
                    combine.get(chosen.criterion_id, "all")
                )
                if b.status == chosen.status == decisive and test(b):
                    chosen = b
            return assessments[by_id[chosen.criterion_id]].criterion_id
    return None
