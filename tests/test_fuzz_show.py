"""Fuzz the show-file loader: any text ends in a :class:`Show` or a :class:`ShowError` whose
problems name real lines, never another exception.  A show that loads is then seekable: the
timeline answers for any time.

``FUZZ_EXAMPLES`` (default 300) sets the examples per property.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from installation.show.loader import Show, ShowError, parse_show
from installation.show.timeline import Timeline

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEFAULT = (Path(__file__).resolve().parents[1] / "shows" / "default.toml").read_text()

KEYS = ["show", "output", "scenes", "name", "seed", "fallback", "width", "height", "fps", "brightness", "duration",
        "keyframe_rate", "transition", "generator", "plugin", "checkpoint", "walk", "type", "seeds", "hold", "post",
        "stage", "loop", "size", "saturation"]


def check(text: str) -> Show | None:
    """The loader's contract."""
    try:
        show = parse_show(text, "fuzz.toml")
    except ShowError as exc:
        n_lines = max(1, text.count("\n") + 1)
        assert exc.problems, "a ShowError lists at least one problem"
        for p in exc.problems:
            assert p.line is None or 1 <= p.line <= n_lines + 1, (p, n_lines)
            assert isinstance(p.format("fuzz.toml"), str)
        assert str(exc).startswith("fuzz.toml")
        if currently_in_test_context():
            event("ShowError: " + ("toml" if exc.problems[0].field == "<toml>" else "schema"))
        return None
    if currently_in_test_context():
        event("valid show")
    timeline = Timeline(show)
    length = sum(s.duration for s in show.scenes)
    for t in (0.0, 1e-9, length / 2, length, length * 7.3, 1e7, -5.0):
        layers = timeline.layers_at(t)
        assert len(layers) <= 2
        assert all(0.0 <= layer.opacity <= 1.0 and math.isfinite(layer.local_t) for layer in layers)
    return show


# -- TOML text from structured values (inline tables keep the writer tiny) ------------------
def toml_str(s: str) -> str:
    """A TOML basic string (JSON's escapes, but astral characters raw and DEL escaped)."""
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int,)):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_str(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_doc(d: dict) -> str:
    return "\n".join(f"{toml_str(k)} = {toml_value(v)}" for k, v in d.items()) + "\n"


_chars = st.characters(blacklist_categories=("Cs",))  # TOML strings hold Unicode scalar values only
scalars = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.floats(), st.text(_chars, max_size=20),
                    st.sampled_from(["noisefield", "slerp", "levels", "", "a"]))
keys = st.one_of(st.sampled_from(KEYS), st.text(_chars, min_size=1, max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(keys, inner, max_size=5)), max_leaves=25)

scene = st.fixed_dictionaries(
    {"name": st.text(_chars, max_size=10), "generator": st.dictionaries(keys, values, max_size=4).map(lambda d: {"plugin": "noisefield", **d})},
    optional={"duration": st.one_of(st.floats(), st.integers(-5, 10**9)),
              "transition": st.one_of(st.floats(), st.integers(-5, 100)),
              "keyframe_rate": st.one_of(st.floats(), st.integers(-1, 500)),
              "walk": st.dictionaries(keys, values, max_size=4), "post": st.lists(st.dictionaries(keys, values, max_size=3), max_size=3),
              "bogus": values})
show_like = st.fixed_dictionaries(
    {"scenes": st.one_of(st.lists(scene, max_size=4), values)},
    optional={"show": st.dictionaries(keys, values, max_size=4), "output": st.dictionaries(keys, values, max_size=5),
              "loop": values, "extra": values})


@pytest.mark.slow
@FUZZ
@given(st.text(max_size=400))
def test_random_text(text):
    check(text)


@pytest.mark.slow
@FUZZ
@given(show_like)
def test_structured_garbage(doc):
    check(toml_doc(doc))


@FUZZ
@given(st.data())
def test_mutated_default_show(data):
    text = DEFAULT
    for _ in range(data.draw(st.integers(1, 5))):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["delete", "insert", "replace_line", "dup_line"]))
        if op == "delete":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 20)):]
        elif op == "insert":
            text = text[:pos] + data.draw(st.sampled_from(["[", "]", "=", '"', "\n", "[[scenes]]\n", "0", "-1", "nan", "#"]) | st.text(max_size=5)) + text[pos:]
        else:
            lines = text.split("\n")
            i = data.draw(st.integers(0, len(lines) - 1))
            if op == "replace_line":
                lines[i] = data.draw(st.sampled_from(["fps = 0", "width = 7", "duration = -1", "plugin = 3",
                                                      "[scenes.walk]", "fallback = \"nope\"", "unknown = 1", ""]))
            else:
                lines.insert(i, lines[i])
            text = "\n".join(lines)
    check(text)


def test_default_show_loads():
    assert check(DEFAULT) is not None


def test_line_numbers_ignore_unicode_line_separators_inside_strings():
    """Found by the fuzzer: U+0085 / U+2028 in a string once shifted every line number after it."""
    text = '[show]\nname = "a\x85b\u2028c"\n[[scenes]]\nname = "x"\nduration = -1\n[scenes.generator]\nplugin = "noisefield"\n'
    try:
        parse_show(text, "f.toml")
    except ShowError as exc:
        assert [(p.field, p.line) for p in exc.problems] == [("scenes[0].duration", 5)]
    else:
        raise AssertionError("duration = -1 must be rejected")
