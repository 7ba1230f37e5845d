"""Load a dataset spec from YAML, with errors that point at the line to fix.

Every problem is reported with the file, the key path (``features[3].window``), the offending
value and the line and column of the key, for YAML syntax errors, empty files, duplicate keys
and every validation failure alike.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from driftloop_spec._base import Loc
from driftloop_spec._yaml import Marks, read_yaml
from driftloop_spec.dataset import DatasetSpec
from driftloop_spec.errors import SpecError, SpecIssue, problems_from

__all__ = ["load_spec", "parse_spec"]


def load_spec(path: str | Path) -> DatasetSpec:
    """Read and validate a dataset spec file.

    Args:
        path: A YAML file (UTF-8).

    Returns:
        The validated spec.

    Raises:
        SpecError: If the file cannot be read, is not valid YAML, or is not a valid spec.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(str(path), [SpecIssue((), f"cannot read the file: {error}")]) from None
    return parse_spec(text, source=str(path))


def parse_spec(text: str, source: str = "<string>") -> DatasetSpec:
    """Parse and validate a dataset spec from YAML text.

    Args:
        text: The YAML text of one document.
        source: What to call the text in error messages, usually its file name.

    Returns:
        The validated spec.

    Raises:
        SpecError: Naming every problem with its key path, value, line and column.
    """
    data, marks = read_yaml(text, source)
    if not isinstance(data, dict):
        kind = "nothing" if data is None else f"a {type(data).__name__}"
        message = f"the top level must be a mapping (name:, fields:, ...), got {kind}"
        raise SpecError(source, [SpecIssue((), message, None, *marks[()])])
    try:
        return DatasetSpec.model_validate(data)
    except ValidationError as error:
        issues = [_placed(issue, marks) for issue in problems_from(error, data)]
        raise SpecError(source, sorted(issues, key=_order)) from None


def _placed(issue: SpecIssue, marks: Marks) -> SpecIssue:
    loc: Loc = issue.loc
    while loc not in marks:
        loc = loc[:-1]
    line, column = marks[loc]
    return SpecIssue(issue.loc, issue.message, issue.value, line, column)


def _order(issue: SpecIssue) -> tuple[int, int]:
    return (issue.line or 0, issue.column or 0)
