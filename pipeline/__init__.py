"""trialmatch: trial eligibility criteria and clinical notes to explained matches."""

__version__ = "0.1.0"
