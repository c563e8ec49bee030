#!/usr/bin/env python3
"""Lists the non-test functions longer than a limit (default 80 lines), longest first.

    scripts/long-functions.py [LIMIT]

A function's length runs from its `fn` line to its closing brace. Test code is skipped:
files under `tests/` or named `tests.rs`, `testing.rs`, `fixtures.rs`, `properties.rs`,
and `#[cfg(test)]` modules. Exit 1 when any function exceeds the limit.
"""
import pathlib
import re
import sys

LIMIT = int(sys.argv[1]) if len(sys.argv) > 1 else 80
ROOT = pathlib.Path(__file__).resolve().parent.parent
TEST_FILES = {"tests.rs", "testing.rs", "fixtures.rs", "properties.rs"}
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")


def code_of(line):
    """The line without string literals, chars and a trailing comment (near enough)."""
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])'", "''", line)
    return line.split("//", 1)[0]


def functions(path):
    lines = path.read_text().splitlines()
    skip_until = -1
    for index, line in enumerate(lines):
        if index <= skip_until:
            continue
        if line.strip() == "#[cfg(test)]":
            skip_until = end_of_block(lines, index + 1) or index
            continue
        match = FN.match(line)
        if not match:
            continue
        end = end_of_block(lines, index)
        if end is not None:
            yield match.group(6), index + 1, end - index + 1


def end_of_block(lines, start):
    """The index of the line closing the first block opened at or after `start`."""
    depth, opened = 0, False
    for index in range(start, len(lines)):
        code = code_of(lines[index])
        if not opened and ";" in code and "{" not in code:
            return None  # a declaration without a body
        for char in code:
            if char == "{":
                depth, opened = depth + 1, True
            elif char == "}":
                depth -= 1
                if opened and depth == 0:
                    return index
    return None


def main():
    found = []
    for path in sorted(ROOT.glob("*/src/**/*.rs")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] == "tests" or "tests" in relative.parts[1:-1] or path.name in TEST_FILES:
            continue
        for name, line, length in functions(path):
            if length > LIMIT:
                found.append((length, f"{relative}:{line}", name))
    for length, where, name in sorted(found, reverse=True):
        print(f"{length:4} {where} {name}")
    print(f"{len(found)} functions over {LIMIT} lines", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
