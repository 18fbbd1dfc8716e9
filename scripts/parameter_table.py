"""The parameter table of docs/model.md, generated from parameters.yaml.

Run:  python scripts/parameter_table.py          (prints the Markdown table)
      python scripts/parameter_table.py --write  (replaces the table at the end of docs/model.md)
"""
import sys
from pathlib import Path

from k2d3.model.build import parameters

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
HEADER = "| parameter | value | unit | description | evidence | source |"


def table() -> str:
    lines = [HEADER, "|---|---|---|---|---|---|"]
    for p in parameters().values():
        src = p.source.replace("|", "/")
        if p.cv:  # between-subject variability of the virtual population
            src += f"; **between-subject CV {p.cv:g}**: " + p.cv_source.replace("|", "/")
        lines.append(f"| `{p.name}` | {p.value:g} | {p.unit} | {p.description} | {p.evidence} | {src} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if "--write" in sys.argv:
        text = DOC.read_text()
        DOC.write_text(text[:text.index(HEADER)] + table())
    else:
        print(table(), end="")


if __name__ == "__main__":
    main()
