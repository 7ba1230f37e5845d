"""A bad spec is reported with its file, key path, offending value and line."""

from __future__ import annotations

import pytest

from driftloop_spec import DatasetSpec, SpecError, parse_spec
from tests.unit.spec.helpers import FRAUD, SENSORS, line_of, only_issue, replace_once

pytestmark = pytest.mark.unit


def test_message_names_file_line_path_and_value() -> None:
    text = replace_once(FRAUD, "window: 24h                  #", "window: 10 parsecs           #")
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="specs/fraud.yaml")
    line = line_of(text, "10 parsecs")
    assert str(caught.value).splitlines() == [
        "specs/fraud.yaml: invalid dataset spec (1 problem)",
        f"  specs/fraud.yaml:{line}:5: features[5].window: invalid duration '10 parsecs': write "
        "a whole number and a unit s, m, h or d, e.g. '30s', '15m', '1h', '7d' "
        '(got "10 parsecs")',
    ]


def test_every_problem_is_reported_in_line_order() -> None:
    text = replace_once(FRAUD, "transform: log1p", "transform: log1pp")
    text = replace_once(text, "holdout: 0.2", "holdout: 2")
    text = replace_once(text, "mode: automatic", "mode: automatc")
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert [issue.path for issue in caught.value.issues] == [
        "features[0].transform",
        "training.holdout",
        "promotion.mode",
    ]
    assert "3 problems" in str(caught.value)


def test_missing_key_points_at_its_parent() -> None:
    text = replace_once(FRAUD, "  min_labelled_rows: 500\n", "")
    issue = only_issue(text)
    assert (issue.path, issue.value) == ("training.min_labelled_rows", None)
    assert issue.line == line_of(text, "training:")
    assert issue.message == "missing key 'min_labelled_rows'"


def test_unknown_top_level_key() -> None:
    issue = only_issue(FRAUD + "promoton: {}\n")
    assert issue.path == "promoton"
    assert issue.message == "unknown key 'promoton' (did you mean 'promotion'?)"
    assert issue.line == line_of(FRAUD + "promoton: {}\n", "promoton:")


def test_reference_problems_are_reported_together() -> None:
    text = replace_once(FRAUD, "left: country", "left: cuntry")
    text = replace_once(text, "    fn: max\n    field: amount", "    fn: max\n    field: amt")
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert [issue.path for issue in caught.value.issues] == [
        "features[2].left",
        "features[7].field",
    ]


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        (
            "mean: 60.0\n    std: 15.0",
            "mean: 60.0\n    std: 0",
            "features[0].std",
            "greater than 0",
        ),
        ("lower: 0\n    upper: 50", "lower: 50\n    upper: 0", "features[1].upper", "above lower"),
        ("    fill: 50.0  ", "    # no fill   ", "features[4].fill", "may be missing"),
        ("shadow_events: 2000", "shadow_events: 0", "promotion.shadow_events", "greater than"),
        ("metric: mae", "metric: accuracy", "promotion.metric", "regression"),
        (
            "method: page_hinkley\n      params:\n        delta: 0.05\n        threshold: 25.0",
            "method: ddm",
            "drift.detectors[2].method",
            "ddm watches a 0/1 error stream",
        ),
        (
            "type: float                    #",
            "type: string                   #",
            "label.type",
            "a regression label is 'float' or 'int'",
        ),
    ],
)
def test_sensors_errors(old: str, new: str, path: str, words: str) -> None:
    issue = only_issue(replace_once(SENSORS, old, new))
    assert issue.path.startswith(path)
    assert words in issue.message


def test_from_document_reports_paths_without_lines() -> None:
    document = parse_spec(FRAUD).to_document()
    document["training"] = {**document["training"], "window": "forever"}
    with pytest.raises(SpecError) as caught:
        DatasetSpec.from_document(document, source="registry:fraud@2")
    (issue,) = caught.value.issues
    assert (issue.path, issue.value, issue.line) == ("training.window", '"forever"', None)
    assert str(caught.value).endswith(
        "registry:fraud@2: training.window: invalid duration 'forever': write a whole number "
        "and a unit s, m, h or d, e.g. '30s', '15m', '1h', '7d' (got \"forever\")"
    )


def test_plain_words_for_shapes_and_names() -> None:
    text = replace_once(FRAUD, "  card_country:\n", "  card country:\n")
    text = replace_once(text, "right: card_country", "right: country")
    issue = only_issue(text)
    assert (issue.path, issue.value) == ("fields['card country']", '"card country"')
    assert issue.message.startswith("not a valid name: a letter or '_'")
    issue = only_issue(
        replace_once(FRAUD, "features: [log_amount, merchant, foreign_card]", "features: [[a]]")
    )
    assert issue.path == "drift.detectors[0].features[0]"
    block = "training:\n  window: 7d\n  holdout: 0.2\n  min_labelled_rows: 500\n  cooldown: 30s\n"
    issue = only_issue(replace_once(FRAUD, block, "training: [7d]\n"))
    assert (issue.path, issue.message) == ("training", "expected a mapping (key: value lines)")


def test_durations_must_be_strings() -> None:
    issue = only_issue(replace_once(FRAUD, "window: 7d", "window: 604800"))
    assert (issue.path, issue.value) == ("training.window", "604800")
    assert issue.message == "a duration must be a string such as '15m' or '1h', got int"


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            "features: [log_amount, merchant, foreign_card]",
            "features: []",
            "drift.detectors[0].features",
            "expected at least 1 item",
        ),
        (
            "  pipeline:\n    - estimator: sklearn.preprocessing.StandardScaler\n",
            "  pipeline:\n",
            "model.pipeline",
            "expected at least 2 items",
        ),
    ],
)
def test_too_short(old: str, new: str, path: str, message: str) -> None:
    text = replace_once(FRAUD if "features" in old else SENSORS, old, new)
    issue = only_issue(text)
    assert issue.path == path
    assert issue.message.startswith(message)


def test_a_typo_is_reported_with_the_other_problems_of_its_mapping() -> None:
    text = replace_once(FRAUD, "    fn: count\n    window: 1h", "    fn: count\n    windw: 1h")
    text = replace_once(text, "name: fraud\n", "name: fraud\nentitty: card\n")
    text = replace_once(text, "holdout: 0.2", "holdout: 0.6")
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert [(issue.path, issue.message) for issue in caught.value.issues] == [
        ("entitty", "unknown key 'entitty' (did you mean 'entity'?)"),
        ("features[4].windw", "unknown key 'windw' (did you mean 'window'?)"),
        ("training.holdout", "Input should be less than 0.5"),
    ]
