"""The calibration layer: the published human data a joint fit uses (``data``) and the
fixed rule that keeps a validation set of whole studies out of it (``split``)."""
from k2d3.calibration.data import Condition, Measurement, conditions, load

__all__ = ["Condition", "Measurement", "conditions", "load"]
