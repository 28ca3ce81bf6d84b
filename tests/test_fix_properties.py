"""Properties: fixing twice changes nothing the second time; a fixed file still parses and
keeps every value no fix touched; undo after a real fix restores every file byte for byte.

Every generated case carries at least one defect a safe fix repairs (a byte order mark, a file
name Windows refuses, a category spelled off the taxonomy), so the properties never hold just
because nothing was fixed: each test also asserts that those fixes were applied.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.engine.fix.model import FileFixStatus
from presetctl.engine.fix.planner import PlanRules, plan_file
from presetctl.engine.fix.run import FixSettings, fix
from presetctl.engine.fix.undo import undo
from presetctl.engine.options import Options, PackConfig

OPTIONS = Options(pack=PackConfig(author="Ada Moog", license="CC0-1.0"), category_aliases={"Basso": "Bass"},
                  profiles=("marketplace",))  # the category, tag, author and license fixes too
RULES = {unsafe: PlanRules.build(OPTIONS, OPTIONS, unsafe) for unsafe in (False, True)}

names = st.text(alphabet=st.sampled_from("Ab 1_-:?é"), min_size=1, max_size=40)
categories = st.sampled_from(["Bass", "basses", "BASS", "Pads", "pad", "Basso", "Nonsense", "lead "])
tags = st.lists(st.sampled_from(["Dark", "dark", " dark", "Warm", "warm  pad", "x"]), max_size=5)
numbers = st.one_of(st.integers(-5, 5), st.floats(-3, 3, allow_nan=False, allow_infinity=False))


# Defects a safe fix always repairs, by the code of its rule; each case has one or more.
DEFECTS = {"bom": "F009", "file-name": "N002", "category": "M004"}


@st.composite
def presets(draw: st.DrawFn) -> tuple[str, bytes, frozenset[str]]:
    """(file name, bytes, codes of the safe fixes that must be applied)."""
    defects = draw(st.sets(st.sampled_from(sorted(DEFECTS)), min_size=1))
    meta: dict[str, object] = {"name": draw(names)}
    if "category" in defects:
        meta["category"] = draw(st.sampled_from(["basses", "BASS", "pad", "Basso"]))  # fixable spellings
    elif draw(st.booleans()):
        meta["category"] = draw(st.sampled_from(["Bass", "Pads", "Nonsense", "lead "]))
    if draw(st.booleans()):
        meta["tags"] = draw(tags)
    if draw(st.booleans()):
        meta["author"] = draw(st.sampled_from(["", "Someone"]))
    params = [{"name": f"p{i}", "type": "float", "value": draw(numbers), "min": 0, "max": 1}
              for i in range(draw(st.integers(0, 3)))]
    doc = {"format_version": "1.0", "metadata": meta, "parameters": params}
    text = json.dumps(doc, indent=draw(st.sampled_from([None, 2, 4])), ensure_ascii=draw(st.booleans())).encode()
    if draw(st.booleans()) and b'"name"' in text:  # a duplicate key, the last value wins
        text = text.replace(b'"metadata": {', b'"metadata": {"name": "Lead", ', 1)
    if "bom" in defects:
        text = b"\xef\xbb\xbf" + text
    name = draw(st.sampled_from(["Bad: name?.json", "Bass|1.json"] if "file-name" in defects else ["Bass.json", "lead.json"]))
    return name, text, frozenset(DEFECTS[d] for d in defects)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(presets(), st.booleans())
def test_fixing_twice_changes_nothing_the_second_time(case: tuple[str, bytes, frozenset[str]], unsafe: bool) -> None:
    name, data, must_fix = case
    rules = RULES[unsafe]
    first = plan_file(data, PurePosixPath("pack") / name, rules, OPTIONS)
    assert must_fix <= {a.code for a in first.applied}, (must_fix, first.applied, first.rolled_back)
    assert first.changed and not first.after.startswith(b"\xef\xbb\xbf")
    second = plan_file(first.after, PurePosixPath("pack") / first.name, rules, OPTIONS)
    assert second.after == first.after and second.name == first.name, second.applied
    assert not second.applied
    body = first.after[3:] if first.after.startswith(b"\xef\xbb\xbf") else first.after
    fixed = orjson.loads(body)
    original = orjson.loads(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
    assert fixed["format_version"] == original["format_version"]
    assert [p["name"] for p in fixed["parameters"]] == [p["name"] for p in original["parameters"]]
    for p, q in zip(fixed["parameters"], original["parameters"], strict=True):
        assert p["value"] == q["value"] or (unsafe and 0 <= p["value"] <= 1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(presets(), min_size=1, max_size=6))
def test_undo_after_fix_is_byte_identical(tmp_path_factory, cases: list[tuple[str, bytes, frozenset[str]]]) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("undo")
    pack = root / "pack"
    pack.mkdir()
    for i, (name, data, _) in enumerate(cases):
        (pack / f"{i}-{name}").write_bytes(data)
    before = {p.name: p.read_bytes() for p in pack.iterdir()}
    state = str(root / "state")
    result = fix([str(pack)], OPTIONS, OPTIONS, FixSettings(unsafe=True, fsync=False, state_dir=state), cwd=str(root))
    assert not result.failed, [(f.path, f.error) for f in result.failed]
    # Every file had a defect a safe fix repairs: each one is fixed, or its fixes were rolled back by the
    # pack check (a fix that would add a finding across files) and the result says so.
    fixed = [f for f in result.files if f.status is FileFixStatus.FIXED]
    assert all(f.status is FileFixStatus.FIXED or (f.status is FileFixStatus.UNCHANGED and f.rolled_back)
               for f in result.files), result.files
    assert fixed and {p.name: p.read_bytes() for p in pack.iterdir()} != before
    assert result.run_id is not None
    restored = undo(result.run_id, state=state, fsync=False)
    assert restored.ok and len(restored.restored) == len(fixed)
    assert {p.name: p.read_bytes() for p in Path(pack).iterdir()} == before
