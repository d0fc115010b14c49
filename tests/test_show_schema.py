"""Show-file validation: every broken file in the corpus reports file, line, field and a hint."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from installation.cli import build_app
from installation.show.loader import ShowError, load_show, parse_show

DATA = Path(__file__).parent / "data" / "shows"
BROKEN = sorted((DATA / "broken").glob("*.toml"))
SHOWS = sorted((Path(__file__).parent.parent / "shows").glob("*.toml"))
EXPECT = re.compile(r"^# expect: (\S+) (\S+)(?: \| (.+))?$")


def expectations(path: Path):
    lines = path.read_text().splitlines()
    file = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("# expect-file:")), None)
    out = []
    for line in lines:
        m = EXPECT.match(line)
        if m:
            out.append((None if m.group(1) == "None" else int(m.group(1)), m.group(2), m.group(3)))
    assert out, f"{path.name} has no '# expect:' line"
    return file, out


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_file_reports_line_field_and_hint(path):
    file, expected = expectations(path)
    with pytest.raises(ShowError) as info:
        load_show(path)
    problems = info.value.problems
    for line, field, hint in expected:
        match = [p for p in problems if p.field == field and p.line == line]
        assert match, f"{path.name}: no problem at line {line} for {field}; got:\n{info.value}"
        text = match[0].format(path)
        assert str(line) in text.split(":")[1] if line else True
        if hint:
            assert hint in text, text
        if file:
            assert str(match[0].file).endswith(file), text
        else:
            assert match[0].file is None and text.startswith(str(path))


def test_corpus_is_not_empty():
    assert len(BROKEN) >= 15


@pytest.mark.parametrize("path", SHOWS, ids=lambda p: p.stem)
def test_example_shows_are_valid(path):
    show = load_show(path)
    assert show.scenes
    from installation.show.check import walk_problems

    assert walk_problems(show, None) == []  # what `show validate` checks of the walks, without the models


def test_default_show_keeps_its_meaning():
    show = load_show(Path(__file__).parent.parent / "shows" / "default.toml")
    assert [s.name for s in show.scenes] == ["warm fields", "slow drift"]
    assert show.scenes[0].transition.duration == 3 and show.scenes[0].transition.curve == "smooth"
    assert show.loop and not show.cues


def test_include_merges_tables_and_the_show_wins(tmp_path):
    (tmp_path / "venue").mkdir()
    (tmp_path / "venue" / "room.toml").write_text(
        'calibration = "cal/room.toml"\n[output]\nwidth = 1920\nheight = 1080\nfps = 25\n')
    show_file = tmp_path / "show.toml"
    show_file.write_text('include = ["venue/room.toml"]\n[output]\nfps = 50\n'
                         '[[scenes]]\nname = "a"\n[scenes.generator]\nplugin = "noisefield"\n')
    show = load_show(show_file)
    assert (show.output.width, show.output.height, show.output.fps) == (1920, 1080, 50)
    assert show.calibration_path == tmp_path / "venue" / "cal" / "room.toml"


def test_calibration_is_resolved_relative_to_the_show(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('calibration = "calibration/venue.toml"\n[[scenes]]\nname = "a"\n[scenes.generator]\nplugin = "x"\n')
    assert load_show(f).calibration_path == tmp_path / "calibration" / "venue.toml"


def test_include_cycle_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text('include = ["b.toml"]\n')
    (tmp_path / "b.toml").write_text('include = ["a.toml"]\n')
    with pytest.raises(ShowError, match="cycle"):
        load_show(tmp_path / "a.toml")


def test_every_error_is_reported_not_just_the_first():
    text = '[output]\nfps = -1\nwidth = 3\n[[scenes]]\nname = "a"\nduraton = 1\n[scenes.generator]\nplugin = "n"\n'
    with pytest.raises(ShowError) as info:
        parse_show(text)
    fields = {p.field for p in info.value.problems}
    assert {"output.fps", "output.width", "scenes[0].duraton"} <= fields


def test_transition_shorthand_and_weekday_names():
    show = parse_show('[[scenes]]\nname = "a"\ntransition = 4.5\n[scenes.generator]\nplugin = "n"\n'
                      '[schedule]\nhours = { Monday = ["10:00-18:00"], daily = ["09:00-17:00"] }\n')
    assert show.scenes[0].transition.duration == 4.5
    assert set(show.schedule.hours) == {"mon", "daily"}


def test_json_schema_describes_the_examples(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "show.schema.json"
    result = CliRunner().invoke(build_app(), ["show", "schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    schema = json.loads(out.read_text())
    assert "cues" in schema["properties"] and "schedule" in schema["properties"]
    import tomllib

    for path in SHOWS:
        data = tomllib.loads(path.read_text())
        data.pop("include", None)
        jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"scenes": [{"name": "a", "generator": {"plugin": "x"}, "duraton": 1}]}, schema)


def test_validate_command_reports_and_exits_nonzero():
    runner = CliRunner()
    bad = DATA / "broken" / "cue_typo_key.toml"
    result = runner.invoke(build_app(), ["show", "validate", "--schema-only", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:9: cues[0].contnue: unknown key (did you mean 'continue'?)" in result.output
    good = Path(__file__).parent.parent / "shows" / "default.toml"
    result = runner.invoke(build_app(), ["show", "validate", str(good)])
    assert result.exit_code == 0 and "ok" in result.output


def test_validate_checks_plugin_names_with_did_you_mean(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[[scenes]]\nname = "a"\n[scenes.generator]\nplugin = "noisefeld"\n[scenes.walk]\ntype = "lopo"\n')
    result = CliRunner().invoke(build_app(), ["show", "validate", str(f)])
    assert result.exit_code == 1
    assert "s.toml:4: scenes[0].generator.plugin: unknown generator 'noisefeld' (did you mean 'noisefield'?)" in result.output
    assert "s.toml:6: scenes[0].walk.type: unknown walk 'lopo' (did you mean 'loop'?)" in result.output


def test_validate_checks_walk_and_post_options(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[[scenes]]\nname = "a"\n[scenes.generator]\nplugin = "noisefield"\n[scenes.walk]\ntype = "loop"\n'
                 'perod = 120\n[[scenes.post]]\nstage = "levels"\nsaturaton = 1.2\n')
    result = CliRunner().invoke(build_app(), ["show", "validate", str(f)])
    assert result.exit_code == 1
    assert "s.toml:7: scenes[0].walk.perod: unknown 'loop' walk option (did you mean 'period'?)" in result.output
    assert "s.toml:10: scenes[0].post[0].saturaton: unknown 'levels' stage option (did you mean 'saturation'?)" in result.output
