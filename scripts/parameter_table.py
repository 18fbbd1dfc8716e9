"""Print parameters.yaml as the Markdown table at the end of docs/model.md.

Run:  python scripts/parameter_table.py > /tmp/table.md   (then paste over the old table)
"""
from k2d3.model.build import parameters


def main() -> None:
    print("| parameter | value | unit | description | evidence | source |")
    print("|---|---|---|---|---|---|")
    for p in parameters().values():
        src = p.source.replace("|", "/")
        print(f"| `{p.name}` | {p.value:g} | {p.unit} | {p.description} | {p.evidence} | {src} |")


if __name__ == "__main__":
    main()
