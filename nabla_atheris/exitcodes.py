"""The exit codes of the `nabla-atheris` command, in one place (the README and `--help` list them)."""

from __future__ import annotations

AGREE = 0
FINDING = 1
BAD_INPUT = 2
NO_RESULT = 3
HARNESS_ERROR = 4
NATIVE_CRASH = 5
INTERRUPTED = 130

MEANING = {
    AGREE: "the scenarios agree (or only recorded kinds such as missing-derivative); success",
    FINDING: "a finding (check, repro); minimize: the minimized case still shows it",
    BAD_INPUT: "bad input: an argument, a malformed or oversized case, a corrupted file, not a campaign folder",
    NO_RESULT: "merge produced nothing; minimize: the target reproduces nothing or the minimization drifted",
    HARNESS_ERROR: "an error of nabla-atheris' own code (a harness error; please report it)",
    NATIVE_CRASH: "a native crash: the library's process died of a signal (named, with the scenario running)",
    INTERRUPTED: "interrupted (Ctrl-C, SIGTERM); a campaign resumes with the same command",
}


def describe() -> str:
    """The exit codes as indented lines, for `--help`."""
    return "\n".join(f"  {code:3}  {meaning}" for code, meaning in MEANING.items())
