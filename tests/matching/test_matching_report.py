"""The HTML report: self-contained, evidence highlighted, filters that really run.

The filter test loads the report in Debian's headless chromium with a URL hash
(``#verdict=excluded``) and reads the DOM after the page script ran. It is
skipped only where chromium is absent outside CI; in CI it must run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from matching_builders import AS_OF, crit, ent, fact, frame, limit
from rich.console import Console

from pipeline.matching import match_trial
from pipeline.matching.flags import evaluate_results
from pipeline.matching.report import ranked_table, render_html
from pipeline.matching.run import MatchRun, write_jsonl
from pipeline.schema import NoteFact, Trial

TRIAL = Trial(
    trial_id="NCT-REPORT",
    title="Report test trial",
    source_format="text",
    criteria=[
        crit("inc-5", kind="inclusion", values=[limit("ecog", "between", 0, None, 1)]),
        crit("exc-3", entities=[ent("anticoagulant")], text="anticoagulant therapy"),
    ],
)
NOTES = {
    "a": "ECOG 1. No anticoagulant.",
    "b": "ECOG 2 at clinic today.",
    "c": "ECOG 0. apixaban 5 mg bid <script>alert(1)</script>",
}


def _run() -> MatchRun:
    facts = [
        fact("ecog", person_id="a", note_id="a1", value=1, text="ECOG 1"),
        fact("ecog", person_id="b", note_id="b1", value=2, text="ECOG 2"),
        fact("ecog", person_id="c", note_id="c1", value=0, text="ECOG 0"),
    ]
    apixaban = fact("apixaban", person_id="c", note_id="c1", text="apixaban")
    facts.append(apixaban.model_copy(update={"offset": 8, "offset_end": 16}))
    matches = match_trial(TRIAL, frame(*facts), {}, AS_OF, ranker=None)
    texts = {pid: {f"{pid}1": ("2026-10-01", text)} for pid, text in NOTES.items()}
    return MatchRun(TRIAL, matches, texts, AS_OF, "3 notes")


def test_report_is_self_contained_and_escaped() -> None:
    html = render_html(_run())
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<link" not in html
    assert "<script>alert(1)</script>" not in html
    assert '<mark id="ev-c_c1-8" class="m-met">apixaban</mark>' in html
    assert html.count('class="row"') == 3


@pytest.mark.parametrize(
    ("person_id", "facts", "row"),
    [
        # A candidate's row names what the notes leave open, for the reviewer.
        ("quiet", [fact("anticoagulant", person_id="quiet", negated=True)],
         ["candidate", "", "unknown: inc-5"]),
        ("ecog2", [fact("ecog", person_id="ecog2", value=2)],
         ["excluded", "inc-5", "ECOG performance status 2 on 2026-10-01 is outside"]),
    ],
)  # fmt: skip
def test_the_ranked_table_says_why(
    person_id: str, facts: list[NoteFact], row: list[str]
) -> None:
    matches = match_trial(TRIAL, frame(*facts), {}, AS_OF, ranker=None)
    console = Console(record=True, width=300)
    console.print(ranked_table(matches, TRIAL))
    line = next(x for x in console.export_text().splitlines() if person_id in x)
    cells = [c.strip() for c in line.split("│")[3:]]
    assert [cells[0], cells[2]] == row[:2]
    assert cells[3].startswith(row[2])


def test_a_note_without_its_text_shows_the_evidence_snippets() -> None:
    # `match --facts` without --notes: the evidence links still land on a mark.
    run = _run()
    run.notes_text = {}
    html = render_html(run)
    assert "Note c1 · 2026-10-01 · evidence snippets (note text not loaded)" in html
    assert '<a class="ev" href="#ev-c_c1-8"' in html
    assert '<li><mark id="ev-c_c1-8" class="m-met">apixaban</mark></li>' in html
    assert html.count("note text not loaded") == 3


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _dump_dom(path: Path, fragment: str, profile: Path, *extra: str) -> str:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI for the report test")
        pytest.skip("chromium is not installed")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *extra,
        "--dump-dom",
        f"{path.as_uri()}{fragment}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _visible_rows(dom: str) -> list[tuple[str, str]]:
    rows = re.findall(r"<tr class=\"row\"([^>]*)>", dom)
    return [
        (
            re.search(r'data-person="([^"]+)"', r)[1],
            re.search(r'data-verdict="(\w+)"', r)[1],
        )
        for r in rows
        if not re.search(r"\shidden(=|\s|$)", r)
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fragment", "visible"),
    [
        ("", {"a", "b", "c"}),
        ("#verdict=excluded", {"b", "c"}),
        ("#verdict=candidate", {"a"}),
        ("#criterion=exc-3&status=met", {"c"}),
    ],
)
def test_filters_run_in_a_real_browser(
    tmp_path: Path, fragment: str, visible: set[str]
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(_run()), encoding="utf-8")
    dom = _dump_dom(page, fragment, tmp_path / "profile")
    assert 'data-filters-ready="1"' in dom
    assert {pid for pid, _ in _visible_rows(dom)} == visible
    assert f"{len(visible)} of 3 patients shown" in dom


@pytest.mark.slow
@pytest.mark.parametrize("texts", [True, False])
def test_open_from_url_shows_the_highlighted_note(tmp_path: Path, texts: bool) -> None:
    # Without the notes' texts (match --facts alone) the mark is on the snippet.
    run = _run()
    if not texts:
        run.notes_text = {}
    page = tmp_path / "report.html"
    page.write_text(render_html(run), encoding="utf-8")
    dom = _dump_dom(page, "#open=c", tmp_path / "profile")
    detail = re.search(r'<tr class="detail" id="d-c"([^>]*)>', dom)
    assert detail and "hidden" not in detail[1]
    # The patient's detail row runs up to the next patient's row.
    shown = dom[detail.end() :].split('<tr class="row"', 1)[0]
    assert '<mark id="ev-c_c1-8" class="m-met">apixaban</mark>' in shown
    assert ("note text not loaded" in shown) != texts
    assert re.search(r'<tr class="detail" id="d-a" hidden', dom)


# Clicks in the report, read back from the page that frames it (file pages may
# read one another only with --allow-file-access-from-files).
_REVIEWER = """<!DOCTYPE html><html><body><iframe id="f" src="report.html"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  var d = this.contentDocument;
  var rows = d.querySelectorAll("tr[data-flag]");
  document.body.setAttribute("data-flags", rows.length);
  rows[0].querySelector('button[data-correct="false"]').click();
  rows[0].querySelector('button[data-correct="true"]').click();
  rows[1].querySelector('button[data-correct="false"]').click();
  var link = d.getElementById("judgements");
  document.body.setAttribute("data-label", link.textContent);
  document.body.setAttribute("data-href", link.getAttribute("href"));
});
</script></body></html>"""


@pytest.mark.slow
def test_judgements_marked_in_the_report_are_what_eval_flags_scores(
    tmp_path: Path,
) -> None:
    run = _run()
    (tmp_path / "report.html").write_text(render_html(run), encoding="utf-8")
    harness = tmp_path / "reviewer.html"
    harness.write_text(_REVIEWER, encoding="utf-8")
    dom = _dump_dom(harness, "", tmp_path / "profile", "--allow-file-access-from-files")
    # a and c meet the ECOG inclusion on a note; c also meets the exclusion.
    assert 'data-flags="3"' in dom
    assert 'data-label="Download judgements (2)"' in dom
    href = re.search(r'data-href="data:application/x-ndjson,([^"]*)"', dom)[1]
    judgements = tmp_path / "judgements.jsonl"
    judgements.write_text(unquote(href), encoding="utf-8")
    results = tmp_path / "results.jsonl"
    write_jsonl(run.matches, results)
    # The first flag was re-marked right: the last mark wins.
    assert evaluate_results(results, judgements).report().splitlines()[-1] == (
        "flags: precision=0.500 correct=1 judged=2 unjudged=1"
    )
