"""installation.problems: one locator, one error type, one renderer, one strict base for every file schema."""
from __future__ import annotations

import inspect
import pickle

import pytest
from pydantic import BaseModel

from installation.calibration import profile as calibration_profile
from installation.problems import (
    Problem, ProblemError, Sources, StrictModel, index_lines, load, problem, read_text, render, split_key,
)
from installation.show import control_types, schema
from installation.show.loader import ShowError


def test_render_is_file_line_field_message_hint():
    problems = [problem("venue.toml", 4, "control.osc.port", "must be at most 65535", "e.g. 9000"),
                problem(None, None, "<file>", "cannot read: No such file or directory")]
    assert render(problems, "show.toml").splitlines() == [
        "venue.toml:4: control.osc.port: must be at most 65535 (e.g. 9000)",
        "show.toml: <file>: cannot read: No such file or directory",
    ]


def test_one_error_type_under_every_name_and_it_pickles():
    from installation.calibration import ProfileError

    assert ShowError is ProblemError and ProfileError is ProblemError
    err = ProblemError("show.toml", Problem(3, "scenes[0].name", "required field is missing", "add `name = ...`"))
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) == "show.toml:3: scenes[0].name: required field is missing (add `name = ...`)"
    assert again.problems == err.problems and again.path == err.path


def test_index_lines_handles_dotted_quoted_keys_arrays_and_line_separators():
    text = ('[show]\nname = "a\u2028b"\n# [commented] = 1\n[[scenes]]\nname = "x"\n[scenes.generator]\n'
            'plugin = "n"\n[[scenes]]\nwalk.type = "loop"\n[control.params]\n"/walk.speed" = { range = [0, 1] }\n')
    lines = index_lines(text)
    assert lines[("show", "name")] == 2
    assert lines[("scenes", 0, "generator", "plugin")] == 7
    assert lines[("scenes", 1, "walk", "type")] == 9  # a dotted key
    assert lines[("control", "params", "/walk.speed")] == 11  # a dot inside quotes is part of the key
    assert ("commented",) not in lines
    assert split_key('a."b.c".d') == ["a", "b.c", "d"]


def test_sources_place_a_problem_in_the_file_that_set_the_key(tmp_path):
    sources = Sources((tmp_path / "show.toml", "[[scenes]]\nname = 'a'\n"))
    sources.add(tmp_path / "venue.toml", "[output]\n\nwidth = 3\n")
    p = sources.problem(("output", "width"), "must be even")
    assert (p.file, p.line, p.field) == (tmp_path / "venue.toml", 3, "output.width")
    p = sources.problem(("scenes", 0, "name"), "duplicate")
    assert (p.file, p.line) == (None, 2)  # in the main file: named by the error's path


def test_unknown_key_inside_a_dict_of_models_gets_did_you_mean(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[[scenes]]\nname = "a"\n[scenes.generator]\nplugin = "n"\n'
                 '[control.params."/walk/speed"]\nrange = [0, 1]\ndefualt = 0.5\n')
    with pytest.raises(ProblemError) as info:
        load(schema.Show, f)
    assert str(info.value) == f"{f}:7: control.params./walk/speed.defualt: unknown key (did you mean 'default'?)"


def test_unreadable_and_not_toml_read_the_same_for_every_kind_of_file(tmp_path):
    with pytest.raises(ProblemError) as info:
        read_text(tmp_path / "absent.toml")
    assert str(info.value) == f"{tmp_path / 'absent.toml'}: <file>: cannot read: No such file or directory"
    bad = tmp_path / "bad.toml"
    bad.write_text("a = 1\nb = [1,\n")
    for model in (schema.Show, calibration_profile.CalibrationProfile):
        with pytest.raises(ProblemError) as info:
            load(model, bad)
        assert [(p.line, p.field) for p in info.value.problems] == [(2, "<toml>")]  # at end of document: the last line
        assert "not valid TOML" in info.value.problems[0].message


def _models(module):
    return [obj for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__]


@pytest.mark.parametrize("module", [schema, control_types, calibration_profile], ids=lambda m: m.__name__)
def test_every_file_schema_derives_from_the_one_strict_base(module):
    models = _models(module)
    assert models
    for model in models:
        if model is schema.PluginTable or issubclass(model, schema.PluginTable):
            continue  # plugin-owned tables: their options are checked by the plugin
        assert issubclass(model, StrictModel), model
        assert model.model_config.get("extra") == "forbid", model
