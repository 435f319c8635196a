"""Matching stage: patients' note facts against a trial's criteria, with evidence.

:func:`match_trial` is the stage's entry point (see ``assess`` for the reading
rules, ``verdict`` for the decision, ``ranker`` for the score and ``report``
for the HTML report).
"""

from pipeline.matching.match import deciding, match_trial

__all__ = ["deciding", "match_trial"]
