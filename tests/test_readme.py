"""README's two set-up commands are the ones the project actually runs."""

import re

from conftest import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```bash\n(.+?)\n```", text)


def test_readme_opens_with_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(\w*)\n(.+?)\n```", text, flags=re.S)
    assert text.split("```", 1)[0].strip() == "# trialmatch"
    assert [lang for lang, _ in blocks[:2]] == ["bash", "bash"]
    assert all("\n" not in body for _, body in blocks[:2])


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_commands()[1] in ci.splitlines()
