"""Real downstream tools: PostgreSQL (Debian's package), MeltanoLabs' target-postgres and Meltano,
each installed in its own virtualenv by `make integration-tools` (bash .ci/run does it all)."""

import os
import pathlib
import shutil
import subprocess

import pytest
import yaml

from devtools import pgserver

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
# what `meltano install` puts under a project's .meltano/: shared by every test project
MELTANO_PLUGINS = (("extractors", "tap-intacct"), ("loaders", "target-jsonl"))


def tool(name, executable):
    path = pathlib.Path(os.environ.get(name.upper().replace("-", "_") + "_BIN", "")) \
        if os.environ.get(name.upper().replace("-", "_") + "_BIN") else \
        TOOLS / name / "bin" / executable
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make integration-tools` (make test does)")
    return str(path)


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server on 127.0.0.1: the one .ci/run started, or a throwaway one."""
    try:
        with pgserver.postgres_url() as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


def meltano_environment(env):
    """`env` for a Meltano command: no usage statistics, and bytecode written: the plugin
    virtualenvs `meltano install` makes (uv) hold none, so with PYTHONDONTWRITEBYTECODE (CI
    images set it) every run of the tap would compile boto3 again."""
    env = {**env, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@pytest.fixture(scope="session")
def meltano_install(tmp_path_factory):
    """The repository's meltano.yml with the tap's pip_url this checkout (`pip install
    .[azure]`, as a user installs it), through `meltano install` once per test process: the
    folder of that project, whose plugin virtualenvs `meltano_project` lends to each test's."""
    folder = tmp_path_factory.mktemp("meltano-install")
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    [extractor] = project["plugins"]["extractors"]
    extractor["pip_url"] = f"{ROOT}[azure]"
    (folder / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    result = subprocess.run([tool("meltano", "meltano"), "install"], cwd=folder,
                            env=meltano_environment(os.environ), capture_output=True, text=True,
                            timeout=900, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    assert (folder / ".meltano" / "meltano.db").exists()
    return folder


def meltano_project(install, folder, project):
    """A Meltano project in `folder` with `project` as its meltano.yml, the plugins `install`
    installed (their virtualenvs linked, as installed by `meltano install` with the same
    pip_url: `meltano run` does not install them again) and a system database of its own, a copy
    of the installed project's (made by one command: never by two run at once)."""
    folder.mkdir()
    (folder / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    for kind, name in MELTANO_PLUGINS:
        (folder / ".meltano" / kind / name).mkdir(parents=True)
        (folder / ".meltano" / kind / name / "venv").symlink_to(
            install / ".meltano" / kind / name / "venv")
    shutil.copy(install / ".meltano" / "meltano.db", folder / ".meltano" / "meltano.db")
