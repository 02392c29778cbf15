"""`make settings-docs`: rewrite the README's settings and environment variable tables and
meltano.yml's extractor settings from settings.config.SETTINGS and settings.knobs.VARIABLES (the
sources of truth; tests/unit/test_docs.py and test_knobs.py check they agree)."""

import json
import pathlib
import re

from tap_intacct import about
from tap_intacct.settings.config import SETTINGS
from tap_intacct.settings.knobs import markdown_table

ROOT = pathlib.Path(__file__).resolve().parent.parent


def readme_table():
    path = ROOT / "README.md"
    text = path.read_text()
    table = re.compile(r"\| key \| required \| description \|\n(?:\|.*\n)+")
    path.write_text(table.sub(lambda _: about("markdown") + "\n", text, count=1))


def variables_table():
    path = ROOT / "README.md"
    text = path.read_text()
    table = re.compile(r"\| variable \| default \| meaning \|\n(?:\|.*\n)+")
    path.write_text(table.sub(lambda _: markdown_table() + "\n", text, count=1))


def meltano_settings():
    path = ROOT / "meltano.yml"
    text = path.read_text()
    lines = ["    settings:"]
    for setting in SETTINGS:
        lines += [f"    - name: {setting.name}", f"      kind: {setting.kind}"]
        if setting.sensitive:
            lines.append("      sensitive: true")
        lines.append(f"      description: {json.dumps(setting.description)}")
    block = re.compile(r"    settings:\n(?:    - name: .*\n(?:      .*\n)*)+(?=    settings_group)")
    path.write_text(block.sub(lambda _: "\n".join(lines) + "\n", text, count=1))


if __name__ == "__main__":
    readme_table()
    variables_table()
    meltano_settings()
