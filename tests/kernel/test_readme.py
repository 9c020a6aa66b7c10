"""README.md must stay true: every setting in config/defaults.toml is documented."""

import re

from trygg.settings import PROJECT_ROOT, load_defaults


def test_every_setting_is_in_the_readme_table_with_its_environment_variable():
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [
        key
        for key in load_defaults()
        if not re.search(rf"\| `{key}` \|.*`TRYGG_{key.upper()}`", readme)
    ]
    assert missing == []


def test_readme_starts_with_the_two_commands():
    readme = (PROJECT_ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    assert "make run" in quick_start
    assert "make test" in quick_start
