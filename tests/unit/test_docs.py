"""The README's settings table is generated from the one source of truth (tap-intacct --about)."""

import pathlib

from tap_intacct import about

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_readme_settings_table_matches_about():
    assert about("markdown") in (ROOT / "README.md").read_text()


def test_sample_config_lists_every_setting():
    import json

    from tap_intacct.settings.config import SETTINGS
    sample = json.loads((ROOT / "sample_config.json").read_text())
    assert set(sample) == {s.name for s in SETTINGS}


def test_meltano_settings_match_the_tap():
    import yaml

    from tap_intacct import CAPABILITIES
    from tap_intacct.settings.config import SETTINGS
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    [extractor] = project["plugins"]["extractors"]
    assert extractor["executable"] == "tap-intacct"
    assert set(extractor["capabilities"]) <= set(CAPABILITIES)
    declared = {s["name"]: s for s in extractor["settings"]}
    assert list(declared) == [s.name for s in SETTINGS]
    for setting in SETTINGS:
        assert declared[setting.name]["kind"] == setting.kind
        assert declared[setting.name]["description"] == setting.description
        assert declared[setting.name].get("sensitive", False) == setting.sensitive


def test_meltano_setting_groups_allow_each_storage():
    """Meltano accepts a config when any one group is complete: S3 needs no Azure setting and
    Azure no bucket."""
    import yaml

    from tap_intacct.settings.config import SETTINGS
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    [extractor] = project["plugins"]["extractors"]
    groups = [set(group) for group in extractor["settings_group_validation"]]
    required = {s.name for s in SETTINGS if s.required}
    names = {s.name for s in SETTINGS}
    assert all(required <= group <= names for group in groups)
    assert any("bucket" in group and "container" not in group for group in groups)
    assert any("container" in group and "bucket" not in group for group in groups)
