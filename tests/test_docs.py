"""The README documents what the product has."""

from pathlib import Path

from consentlens.cli import build_parser
from data.intake.layouts import layouts_markdown
from data.intake.mapping import synonyms_markdown
from metrics.figures import FIGURES, glossary_markdown

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_glossary_in_readme_matches_the_registry():
    start = README.index("<!-- glossary:start -->") + len("<!-- glossary:start -->")
    end = README.index("<!-- glossary:end -->")
    assert README[start:end].strip() == glossary_markdown()
    assert len(FIGURES) == len({f.name for f in FIGURES})


def test_every_command_and_option_is_in_the_readme():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001
    for name, sub in commands.items():
        assert f"consentlens {name}" in README
        for action in sub._actions:  # noqa: SLF001
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert flag in README, f"{name} {flag} is undocumented"


def test_header_synonyms_in_readme_match_the_schema():
    start = README.index("<!-- synonyms:start -->") + len("<!-- synonyms:start -->")
    end = README.index("<!-- synonyms:end -->")
    assert README[start:end].strip() == synonyms_markdown()


def test_known_export_layouts_in_readme_match_the_code():
    start = README.index("<!-- layouts:start -->") + len("<!-- layouts:start -->")
    end = README.index("<!-- layouts:end -->")
    assert README[start:end].strip() == layouts_markdown()
