"""The domain stays readable in pieces: no module grows past a size a reader can hold."""

from pathlib import Path

import domain

MAX_LINES = 400
DOMAIN = Path(domain.__file__).parent


def test_no_domain_module_over_400_lines() -> None:
    modules = sorted(DOMAIN.rglob("*.py"))
    assert len(modules) > 10  # the walk found the package, not an empty directory
    too_long = {
        str(path.relative_to(DOMAIN)): lines
        for path in modules
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"split these modules (at most {MAX_LINES} lines each): {too_long}"


def test_chains_is_a_package_whose_modules_each_hold_one_concern() -> None:
    package = DOMAIN / "chains"
    assert (package / "__init__.py").is_file()
    assert not (DOMAIN / "chains.py").exists()
    assert {p.stem for p in package.glob("*.py")} >= {
        "properties",
        "configs",
        "actions",
        "parsing",
        "editing",
        "templates",
        "conditions",
        "delays",
        "planning",
        "webhooks",
    }
