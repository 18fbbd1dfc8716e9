"""k2d3: how vitamins D3 and K2 act in the human body, as a mechanistic model.

The public API is small: describe a ``Subject`` and a ``Regimen``, then ``simulate``;
``compare`` runs the 2x2 factorial of a regimen's vitamin D and K supplements, for one
subject or a ``Population``; a ``Trial`` runs a virtual parallel-group trial from a trial file.
"""
from k2d3.analyses.compare import Comparison, compare
from k2d3.analyses.population import Population
from k2d3.analyses.trials import Trial
from k2d3.engine.simulate import Result, simulate
from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject

__all__ = ["Comparison", "InputError", "Population", "Regimen", "Result", "Subject", "Trial", "compare", "simulate"]
__version__ = "0.1.0"
