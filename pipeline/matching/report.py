"""Presentation of a match run: the ranked terminal table and the HTML report.

The HTML report is one self-contained file (inline CSS and JS from
``resources/matching_report.html``, no network): patients ranked, each
criterion's status and rationale, the evidence highlighted inside the patient's
own note text (or, for a note whose text was not loaded, its evidence snippets),
and filters by verdict and by criterion status that can also be
set from the URL (``report.html#verdict=excluded&criterion=exc-3&status=met``;
``&open=P010`` opens one patient's criteria and notes). A reviewer marks each
flagged criterion (see :mod:`pipeline.matching.flags`) right or wrong and
downloads the marks as the judgements ``trialmatch eval flags`` scores.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from pathlib import Path

from rich.table import Table

from pipeline.matching.flags import KEY_FIELDS, flag_of, is_flag
from pipeline.matching.match import deciding
from pipeline.matching.run import MatchRun
from pipeline.resources import read_text
from pipeline.schema import CriterionAssessment, PatientMatch, Trial
from pipeline.textio import prepare_output

STATUSES = ("met", "not_met", "unknown", "not_applicable")


def ranked_table(matches: list[PatientMatch], trial: Trial, limit: int = 50) -> Table:
    """The ranked patients as a rich table (first ``limit`` rows)."""
    table = Table(title=f"{trial.trial_id or 'trial'}: {len(matches)} patients ranked")
    for name in ("#", "person", "verdict", "score", "deciding", "why"):
        table.add_column(name, overflow="fold")
    colour = {"candidate": "green", "review": "yellow", "excluded": "red"}
    top = {c.id for c in trial.criteria}
    for rank, m in enumerate(matches[:limit], start=1):
        cid = deciding(m, trial)
        if cid is None:
            # A candidate: what the reviewer still has to check in the chart.
            open_ids = [
                a.criterion_id
                for a in m.criteria
                if a.criterion_id in top and a.status == "unknown"
            ]
            why = f"unknown: {', '.join(open_ids)}" if open_ids else ""
        else:
            why = next(a.rationale for a in m.criteria if a.criterion_id == cid)
        table.add_row(
            str(rank),
            m.person_id,
            f"[{colour[m.verdict]}]{m.verdict}[/]",
            f"{m.score:.3f}",
            cid or "",
            why,
        )
    return table


def _note_html(
    note_id: str, date: str | None, text: str, marks: list[tuple[int, int, str, str]]
) -> str:
    """The note text with evidence spans wrapped in ``<mark>`` (overlaps skipped)."""
    out, pos = [], 0
    for start, end, status, anchor in sorted(marks):
        if start < pos or end > len(text) or start >= end:
            continue
        out.append(escape(text[pos:start]))
        out.append(
            f'<mark id="{anchor}" class="m-{status}">{escape(text[start:end])}</mark>'
        )
        pos = end
    out.append(escape(text[pos:]))
    return (
        f'<details class="note" open><summary>Note {escape(note_id)} · '
        f"{escape(date or 'undated')}</summary><pre>{''.join(out)}</pre></details>"
    )


def _snippets_html(m: PatientMatch, note_id: str) -> str:
    """A note whose text was not loaded (``match --facts`` without ``--notes``):
    its evidence snippets in text order, each marked where the criteria table
    links to (one mark per place, as in a loaded note)."""
    marked: dict[str, tuple[int, str, str]] = {}
    date = None
    for a in m.criteria:
        for e in a.evidence:
            if e.note_id == note_id:
                date = date or e.note_date
                anchor = _anchor(m.person_id, note_id, e.start)
                marked.setdefault(anchor, (e.start, a.status, e.snippet))
    items = "".join(
        f'<li><mark id="{anchor}" class="m-{status}">{escape(snippet)}</mark></li>'
        for anchor, (_, status, snippet) in sorted(
            marked.items(), key=lambda kv: kv[1][0]
        )
    )
    when = date.isoformat() if date else "undated"
    return (
        f'<details class="note" open><summary>Note {escape(note_id)} · {when} · '
        f"evidence snippets (note text not loaded)</summary><ul>{items}</ul></details>"
    )


def _anchor(person: str, note_id: str, start: int) -> str:
    safe = "".join(ch if ch.isalnum() else "_" for ch in f"{person}-{note_id}")
    return f"ev-{safe}-{start}"


def _patient_html(
    rank: int,
    m: PatientMatch,
    trial: Trial,
    notes: dict[str, tuple[str | None, str]],
) -> str:
    cid = deciding(m, trial)
    statuses = {a.criterion_id: a.status for a in m.criteria}
    counts = Counter(a.status for a in m.criteria)
    summary = " · ".join(f"{counts[s]} {s.replace('_', ' ')}" for s in STATUSES)
    person = escape(m.person_id)
    row = (
        f'<tr class="row" data-person="{person}" data-verdict="{m.verdict}" '
        f"data-statuses='{escape(json.dumps(statuses), quote=True)}'>"
        f"<td>{rank}</td><td>{person}</td>"
        f'<td><span class="badge v-{m.verdict}">{m.verdict}</span></td>'
        f"<td>{m.score:.3f}</td><td>{escape(cid or '')}</td><td>{summary}</td></tr>"
    )
    marks: dict[str, list[tuple[int, int, str, str]]] = {}
    rows = []
    for a in m.criteria:
        rows.append(_criterion_row(m, a, a.criterion_id == cid))
        for e in a.evidence:
            anchor = _anchor(m.person_id, e.note_id, e.start)
            marks.setdefault(e.note_id, []).append((e.start, e.end, a.status, anchor))
    notes_html = "".join(
        _note_html(nid, date, text, marks.get(nid, []))
        for nid, (date, text) in sorted(notes.items(), key=lambda kv: kv[1][0] or "")
    ) + "".join(_snippets_html(m, nid) for nid in sorted(marks) if nid not in notes)
    detail = (
        f'<tr class="detail" id="d-{person}" hidden><td colspan="6">'
        '<table class="criteria"><thead><tr><th>criterion</th><th>kind</th>'
        "<th>status</th><th>rationale</th><th>evidence</th><th>review</th></tr>"
        "</thead><tbody>" + "".join(rows) + f"</tbody></table>{notes_html}</td></tr>"
    )
    return row + detail


def _criterion_row(m: PatientMatch, a: CriterionAssessment, is_deciding: bool) -> str:
    links = "".join(
        f'<a class="ev" href="#{_anchor(m.person_id, e.note_id, e.start)}" '
        f'title="{escape(e.snippet)}">{escape(e.note_id)}:{e.start}'
        f"{' (' + ', '.join(e.modifiers) + ')' if e.modifiers else ''}</a>"
        for e in a.evidence
    )
    css = ' class="deciding"' if is_deciding else ""
    review, flag = "", ""
    if is_flag(a):
        # The judgement's key, as `trialmatch eval flags` reads it.
        key = dict(zip(KEY_FIELDS, flag_of(m, a).key, strict=True))
        flag = f" data-flag='{escape(json.dumps(key), quote=True)}'"
        review = (
            '<button class="judge" data-correct="true" title="the evidence shows it">'
            "right</button>"
            '<button class="judge" data-correct="false" title="it does not">'
            "wrong</button>"
        )
    return (
        f'<tr data-criterion="{escape(a.criterion_id)}"{css}{flag}>'
        f'<td title="{escape(a.text)}">{escape(a.criterion_id)}</td><td>{a.kind}</td>'
        f'<td class="s-{a.status}">{a.status}</td><td>{escape(a.rationale)}</td>'
        f"<td>{links}</td><td>{review}</td></tr>"
    )


def render_html(run: MatchRun) -> str:
    """The self-contained HTML report of a match run."""
    trial = run.trial
    counts = Counter(m.verdict for m in run.matches)
    criteria = [
        f'<option value="{escape(c.id)}">{escape(c.id)}: {escape(c.text[:70])}</option>'
        for c in trial.all_criteria()
    ]
    title = f"{trial.trial_id or 'Trial'} screening report"
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<div class="meta">{escape(trial.title or "")}<br>As of '
        f"{run.as_of.isoformat()} · {len(run.matches)} patients: "
        + ", ".join(f"{counts[v]} {v}" for v in ("candidate", "review", "excluded"))
        + (f" · skipped: {escape('; '.join(run.skipped))}" if run.skipped else "")
        + "</div>",
        '<div class="filters"><label for="f-verdict">Verdict</label>'
        '<select id="f-verdict"><option value="all">all</option>'
        + "".join(
            f'<option value="{v}">{v}</option>'
            for v in ("candidate", "review", "excluded")
        )
        + '</select><label for="f-criterion">Criterion</label>'
        '<select id="f-criterion"><option value="all">all</option>'
        + "".join(criteria)
        + '</select><label for="f-status">status</label><select id="f-status">'
        '<option value="any">any</option>'
        + "".join(f'<option value="{s}">{s}</option>' for s in STATUSES)
        + '</select><span id="shown"></span>'
        '<a id="judgements" download="judgements.jsonl" '
        'href="data:application/x-ndjson," '
        'title="Your right/wrong marks on flagged evidence, for trialmatch eval flags">'
        "Download judgements (0)</a></div>",
        '<table class="patients"><thead><tr><th>#</th><th>person</th>'
        "<th>verdict</th><th>score</th><th>deciding</th><th>criteria</th></tr>"
        "</thead><tbody>",
        *(
            _patient_html(i, m, trial, run.notes_text.get(m.person_id, {}))
            for i, m in enumerate(run.matches, start=1)
        ),
        "</tbody></table>",
    ]
    page = read_text("matching_report.html")
    return page.replace("@@TITLE@@", escape(title)).replace("@@BODY@@", "\n".join(body))


def write_html(run: MatchRun, path: Path) -> None:
    """Write the report to ``path`` (parent directories created, see
    :func:`~pipeline.textio.prepare_output`)."""
    prepare_output(path)
    path.write_text(render_html(run), encoding="utf-8")
