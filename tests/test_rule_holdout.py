"""The held-out corpus of real 评分标准 texts (tests/data/corpus/rule_phrasings_holdout.json).

Texts gathered independently of the dev corpus, never used to tune the reader: they measure
how the reader generalises. Each case is judged exactly as the dev corpus judges it
(``test_rule_corpus.judge``): right, manual or wrong. The row's 目标值 is 100 unless the
text object carries a ``target`` (the source table keeps it in a neighbouring column; see
README_holdout.md). A wrong score is a defect; a manual case is only a miss. The table
printed counts all cases and the numeric-valued ones (a string value names a situation no
numeric rule can score).
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from perfeval_xl.rules import Manual, format_rule, read_standard_text, score_rule
from tests.test_rule_corpus import CORPUS as DEV_CORPUS
from tests.test_rule_corpus import KINDS, ROW_TARGET, table, tally

HOLDOUT = Path(__file__).parent / "data" / "corpus" / "rule_phrasings_holdout.json"

# Texts and cases per kind, as README_holdout.md documents them.
DOCUMENTED = {
    "deduct_per_point": (10, 48),
    "deduct_per_step": (0, 0),
    "bands": (7, 32),
    "proportional": (9, 34),
    "target_met": (12, 39),
    "manual_tiers": (13, 40),
    "other": (52, 183),
}


def _load():
    return json.loads(HOLDOUT.read_text(encoding="utf-8"))


def holdout_target(_i: int, entry: dict) -> Decimal:
    target = entry.get("target")
    return ROW_TARGET if target is None else Decimal(str(target))


def _reading(entry: dict, value=None) -> str:
    """How the reader reads a text, and what it scores at ``value`` (for the wrong-case list)."""
    weight = None if entry["weight"] is None else Decimal(str(entry["weight"]))
    target = holdout_target(0, entry)
    reading = read_standard_text(entry["text"], weight, target=target)
    rule = reading.rule
    if rule is None or (isinstance(rule, Manual) and not rule.tiers):
        return f"manual: {reading.reason}"
    if value is None:
        return format_rule(rule)
    value = value if isinstance(value, str) else Decimal(str(value))
    return f"got {score_rule(rule, value, weight, target=target)} from {format_rule(rule)}"


@pytest.fixture(scope="module")
def result():
    entries = _load()
    return entries, *tally(entries, must_stay_manual={}, target_of=holdout_target)


def test_holdout_is_the_documented_one():
    entries = _load()
    texts = Counter(e["kind"] for e in entries)
    cases = Counter()
    for e in entries:
        cases[e["kind"]] += len(e["cases"])
    assert {k: (texts[k], cases[k]) for k in KINDS} == DOCUMENTED
    assert len(entries) == sum(t for t, _ in DOCUMENTED.values())
    dev = json.loads(DEV_CORPUS.read_text(encoding="utf-8"))
    dev_texts = {"".join(e["text"].split()) for e in dev}
    for e in entries:
        assert "".join(e["text"].split()) not in dev_texts, e["indicator"]
        assert e["source"].startswith("http"), e["indicator"]
        assert 3 <= len(e["cases"]) <= 5, e["indicator"]
        for case in e["cases"]:
            assert isinstance(case["score"], (int, float)), (e["indicator"], case)
        if "target" in e:
            assert isinstance(e["target"], (int, float)), e["indicator"]


def test_no_wrong_score_in_the_holdout(result, capsys):
    entries, counts, decidable, wrong = result
    lines = [f"  #{i} {name} (分值 {entries[i]['weight']}): value {case['value']!r} "
             f"expected {case['score']} | {_reading(entries[i], case['value'])}"
             for i, name, case in wrong]
    with capsys.disabled():
        print("\nheld-out corpus (right of decidable = numeric-valued cases):")
        print(table(counts, decidable))
        print(f"wrong cases: {len(wrong)}")
        print("\n".join(lines))
    assert wrong == []
