"""Print the shell commands of the README's fenced block under a bold label (``**Test it**``).

``.ci/run`` runs exactly what the README tells a newcomer to run, so the README stays the one
place those commands are written. A README without the block is an error, never a silent skip:

    python .ci/readme_commands.py README.md "Test it"
"""
from __future__ import annotations

import sys
from pathlib import Path

def commands(readme: str, label: str) -> str:
    """The commands of the first fenced block after ``**label**`` (comments and blank lines left out).

    The block must come before the next heading or bold label; ValueError when there is none.
    """
    lines = readme.splitlines()
    marker = f"**{label}**"
    start = next((i for i, line in enumerate(lines) if marker in line), None)
    if start is None:
        raise ValueError(f"no {marker} in it")
    body: list[str] | None = None
    for line in lines[start + 1:]:
        if body is None:
            if line.startswith("```"):
                body = []
            elif line.startswith("#") or line.startswith("**"):
                break
        elif line.startswith("```"):
            break
        elif line.strip() and not line.lstrip().startswith("#"):
            body.append(line)
    if not body:
        raise ValueError(f"no fenced command block under {marker}")
    return "\n".join(body)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} README.md LABEL", file=sys.stderr)
        return 2
    path, label = Path(argv[1]), argv[2]
    try:
        print(commands(path.read_text(encoding="utf-8"), label))
    except (OSError, ValueError) as exc:
        print(f"error: {path}: {exc}; CI runs the README's own commands, so it must keep them",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
