"""The model: Antimony subsystems, the parameter table, observables, and its exports.

python-libsedml imported after python-libsbml leaves libsbml's ``ASTNode.getType()``
returning an opaque SWIG pointer for the rest of the process (the batch engine and the export
read SBML math through it); imported first, both work. k2d3 imports libsbml only under this
package, so libsedml is imported here first, unless libsbml is already loaded (then
``omex.sedml`` writes the SED-ML in a child process).
"""
import sys

if "libsbml" not in sys.modules:
    try:
        import libsedml  # noqa: F401
    except ImportError:  # without python-libsedml only the SED-ML export is unavailable
        pass
