"""YAML-level problems: syntax, empty files, non-mappings, duplicate keys, aliases, files."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftloop_spec import SpecError, load_spec, parse_spec
from tests.unit.spec.helpers import FRAUD, line_of, only_issue, replace_once

pytestmark = pytest.mark.unit


def test_syntax_error_has_line_and_column() -> None:
    text = replace_once(FRAUD, "  holdout: 0.2\n", "  holdout: [0.2\n")
    issue = only_issue(text, source="fraud.yaml")
    assert issue.message.startswith("invalid YAML:")
    assert issue.line is not None
    assert issue.line >= line_of(text, "holdout: [0.2")
    assert issue.column is not None
    assert issue.describe("fraud.yaml").startswith(f"fraud.yaml:{issue.line}:{issue.column}: ")


def test_bad_indentation_is_a_syntax_error() -> None:
    issue = only_issue("name: x\n  entity: y\n entity: z\n")
    assert issue.message.startswith("invalid YAML:")
    assert issue.line == 2


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(text: str) -> None:
    issue = only_issue(text, source="empty.yaml")
    assert "empty" in issue.message or "got nothing" in issue.message
    assert issue.path == "(top level)"


@pytest.mark.parametrize(
    ("text", "kind"), [("- name: x\n", "a list"), ("fraud\n", "a str"), ("42\n", "a int")]
)
def test_top_level_must_be_a_mapping(text: str, kind: str) -> None:
    issue = only_issue(text)
    assert issue.message == f"the top level must be a mapping (name:, fields:, ...), got {kind}"
    assert issue.line == 1


def test_more_than_one_document() -> None:
    issue = only_issue(FRAUD + "---\nname: other\n")
    assert "expected a single document" in issue.message


def test_duplicate_keys_are_rejected_at_every_level() -> None:
    text = replace_once(FRAUD, "  holdout: 0.2\n", "  holdout: 0.2\n  holdout: 0.3\n")
    text = replace_once(text, "name: fraud\n", "name: fraud\nname: fraud2\n")
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    first, second = caught.value.issues
    assert (first.path, first.line, first.value) == ("name", line_of(text, "name: fraud2"), None)
    assert first.message == f"duplicate key 'name' (first at line {line_of(text, 'name: fraud')})"
    assert (second.path, second.line) == ("training.holdout", line_of(text, "holdout: 0.3"))


def test_duplicate_key_inside_a_list_item() -> None:
    text = replace_once(
        FRAUD, "    fn: count\n    window: 1h", "    fn: count\n    fn: sum\n    window: 1h"
    )
    issue = only_issue(text)
    assert (issue.path, issue.line) == ("features[4].fn", line_of(text, "fn: sum"))


MERCHANTS = "[grocery, restaurant, travel, electronics, fuel, online_retail, entertainment, health]"


def test_anchors_and_aliases_work_and_keep_lines() -> None:
    text = replace_once(FRAUD, f"values: {MERCHANTS}", f"values: &merchants {MERCHANTS}")
    text = replace_once(text, f"categories: {MERCHANTS}", "categories: *merchants")
    assert parse_spec(text) == parse_spec(FRAUD)
    issue = only_issue(replace_once(text, "transform: log1p", "transform: nope"))
    assert issue.line == line_of(text, "transform: log1p")


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    issue = only_issue("\n".join(lines) + "\n")
    assert "expands to" in issue.message


def test_python_tags_are_refused() -> None:
    issue = only_issue("name: !!python/object/apply:os.system [echo hi]\n")
    assert issue.message.startswith("invalid YAML:")
    assert issue.line == 1


def test_load_spec_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "fraud.yaml"
    path.write_text(FRAUD, encoding="utf-8")
    assert load_spec(path) == parse_spec(FRAUD)
    assert load_spec(str(path)) == parse_spec(FRAUD)


def test_load_spec_names_the_file_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(replace_once(FRAUD, "holdout: 0.2", "holdout: 0"), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.source == str(path)
    assert str(caught.value).splitlines()[1].startswith(f"  {path}:{line_of(FRAUD, 'holdout')}:3: ")


def test_load_spec_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read the file"):
        load_spec(tmp_path / "missing.yaml")


def test_load_spec_of_a_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SpecError, match="cannot read the file"):
        load_spec(path)
