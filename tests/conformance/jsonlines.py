"""JSON lines checked one document at a time, for the validators' command lines."""
import json
import sys


def check_files(validate, files):
    """validate(doc) -> problems. Returns (documents read, problems as 'file:line: ...');
    '-' (or no file) is standard input."""
    total, problems = 0, []
    for name in files or ["-"]:
        text = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            total += 1
            try:
                doc = json.loads(line)
            except ValueError as e:
                problems.append("%s:%d: not JSON: %s" % (name, i, e))
                continue
            problems += ["%s:%d: %s" % (name, i, m) for m in validate(doc)]
    return total, problems
