"""k2d3: how vitamins D3 and K2 act in the human body, as a mechanistic model.

The public API is small: describe a ``Subject`` and a ``Regimen``, then ``simulate``.
"""
from k2d3.engine.simulate import Result, simulate
from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject

__all__ = ["InputError", "Regimen", "Result", "Subject", "simulate"]
__version__ = "0.1.0"
