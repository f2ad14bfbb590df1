"""README.md against the code: every --flag it shows exists in its command's --help (and
every {a,b} list of values is that flag's choices), the model table names every shipped
model with its card's scores, the test command is the one CI runs, it stays short, and
its links (and those of docs/) reach a file and a heading."""

from __future__ import annotations

import contextlib
import io as text_io
import json
import re
from pathlib import Path

import pytest

from srgan import cli, pretrained
from srgan.models.weights import generator_json

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_LINES = 300
ENTRY_POINTS = {"train.py": cli.train_main, "predict.py": cli.predict_main,
                "evaluate.py": cli.evaluate_main, "export.py": cli.export_main,
                "app.py": cli.app_main}
# The command each README section is about; a code span starting with `python X.py`
# switches to X for the rest of its paragraph, one that names `X.py` holds X's flags.
SECTION_COMMANDS = {"Upscale faces": "predict.py", "Upscale photos": "predict.py",
                    "Train": "train.py", "Watch": "train.py", "Evaluate": "evaluate.py",
                    "Web page": "app.py", "Shipped models": "predict.py"}
# Programs that are not ours: their flags are theirs to check.
OTHER_PROGRAMS = re.compile(r"\b(pip|tensorboard|pytest)\b")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
CHOICES = re.compile(r"(--[a-z][a-z0-9-]*) \{([^}]*)\}")
COMMAND = re.compile(r"(?:^|\s)(?:python )?(\w+\.py)\b")


def _help_options(main) -> tuple[set[str], dict[str, set[str]]]:
    """The option strings of ``main(["--help"])``'s output, and the choices it shows."""
    out = text_io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    options, choices = set(), {}
    for line in out.getvalue().splitlines():
        invocation = re.match(r"\s{2}(-\S.*?)(?:\s{2,}|$)", line)
        if invocation:
            options |= set(FLAG.findall(invocation[1]))
            for flag, values in CHOICES.findall(invocation[1]):
                choices[flag] = set(values.split(","))
    return options, choices


@pytest.fixture(scope="module")
def helps():
    return {name: _help_options(main) for name, main in ENTRY_POINTS.items()}


def _paragraphs(text: str):
    """``(section, paragraph, is_code)`` for each paragraph, table and code block; code
    blocks come one logical line (backslash continuations joined) at a time."""
    section, block, code = None, [], None
    for line in text.splitlines() + [""]:
        if code is not None:
            if line.startswith("```"):
                for command in "\n".join(code).replace("\\\n", " ").splitlines():
                    yield section, command.split("#")[0], True
                code = None
            else:
                code.append(line)
            continue
        if line.startswith("```") or line.startswith("#") or not line.strip():
            if block:
                yield section, " ".join(block), False
            block = []
            if line.startswith("```"):
                code = []
            elif line.startswith("## "):
                section = line[3:].strip()
            continue
        block.append(line)


def _mentions() -> list[tuple[str, str, str]]:
    """``(command, flag, snippet)`` for every --flag in README's code, with the command
    it belongs to; flags of other programs are left out."""
    found = []
    for section, text, is_code in _paragraphs(README.read_text()):
        spans = [text] if is_code else re.findall(r"`([^`]+)`", text)
        context = SECTION_COMMANDS.get(section)
        for span in spans:
            if OTHER_PROGRAMS.search(span):
                continue
            named = COMMAND.search(span)
            owner = named[1] if named else context
            if named and re.match(r"\s*python \w+\.py", span) and not is_code:
                context = owner
            for flag in FLAG.findall(span):
                found.append((owner, flag, span))
    return found


def test_readme_has_at_most_300_lines():
    lines = README.read_text().count("\n")
    assert lines <= MAX_LINES, f"README.md has {lines} lines; move details to docs/"


def test_every_flag_outside_code_is_in_backticks():
    prose = re.sub(r"```.*?```|`[^`]*`", "", README.read_text(), flags=re.S)
    assert not FLAG.findall(prose), "a --flag outside code escapes the flag check"


def test_every_readme_flag_is_in_its_commands_help(helps):
    mentions = _mentions()
    assert len({flag for _, flag, _ in mentions}) > 30  # the parser saw the README's flags
    for command, flag, span in mentions:
        assert command in helps, f"README: {span!r} belongs to no command of {list(helps)}"
        assert flag in helps[command][0], f"README: {span!r}: {command} has no {flag}"


def test_every_readme_list_of_values_is_the_flags_choices(helps):
    listed = [(command, flag, set(values.split(",")), span)
              for command, _, span in _mentions() for flag, values in CHOICES.findall(span)]
    assert len(listed) > 5
    for command, flag, values, span in listed:
        assert values == helps[command][1].get(flag), f"README: {span!r}: {command} {flag}"


def test_the_flag_check_catches_a_wrong_flag_and_a_short_list(helps):
    options, choices = helps["train.py"]
    assert "--generator" in options and "--generatr" not in options
    assert choices["--generator"] != {"srresnet", "srcnn"}


def _model_table() -> dict[str, dict[str, str]]:
    """The rows of README's shipped-model table by ``--model`` name, as header -> cell."""
    text = README.read_text().split("## Shipped models", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|")]
    header, body = rows[0], rows[2:]
    return {row[0].strip("`"): dict(zip(header, row)) for row in body}


def test_model_table_names_every_shipped_model_with_its_cards_scores():
    table = _model_table()
    assert set(table) == set(pretrained.SHIPPED)
    for name, row in table.items():
        card = json.loads(generator_json(pretrained.shipped_path(name)).read_text())
        # The table's faces: the 200 CelebA faces, whole images, that no model saw.
        (scores,) = [e["summary"] for e in card["evaluation"]
                     if e["settings"]["images"] == 200
                     and e["settings"]["hr"].startswith("whole image")]
        sr, bicubic = scores["sr"], scores["bicubic"]
        assert row["PSNR-Y"] == f"{sr['psnr_y']:.2f}", name
        assert row["LPIPS"] == f"{sr['lpips']:.3f}", name
        assert row["bicubic: PSNR-Y, LPIPS"] == f"{bicubic['psnr_y']:.2f}, {bicubic['lpips']:.3f}"


def test_model_help_names_every_shipped_model():
    out = text_io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.predict_main(["--help"])
    entry = out.getvalue().split("--model MODEL, --weights MODEL", 1)[1].split("  --", 1)[0]
    text = " ".join(entry.split())
    for name in pretrained.SHIPPED:
        assert re.search(rf"\b{name}\b", text), name


def test_readme_test_command_is_the_one_ci_runs():
    ci = [line.split("#")[0].strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if "pytest" in line.split("#")[0]]
    setup = README.read_text().split("## Set up", 1)[1].split("```bash", 1)[1].split("```")[0]
    assert len(ci) == 1 and ci[0] in setup.splitlines()


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a Markdown page's headings."""
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.*)$", page.read_text(), re.M)}


def test_links_of_readme_and_docs_reach_a_file_and_heading():
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    links = [(page, target) for page in pages
             for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text())
             if not target.startswith(("http://", "https://"))]
    assert len(links) > 20
    for page, target in links:
        name, _, anchor = target.partition("#")
        linked = (page.parent / name) if name else page
        assert linked.exists(), f"{page.name}: {target} names no file"
        if anchor and linked.suffix == ".md":
            assert anchor in _anchors(linked), f"{page.name}: {target}: no such heading"

