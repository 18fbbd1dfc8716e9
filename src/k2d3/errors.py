"""The one error type that user input can raise.

Every interface (CLI, web, API) turns it into one line that names the field and the
problem; nothing else about bad input should ever reach a user as a traceback.
"""


class InputError(ValueError):
    """Bad user input: ``field`` names where, the message says what is wrong."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")
