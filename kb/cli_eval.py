"""`kb eval`: check a clinic's expected answers against the local index or a kb server.

The scoring is kb.evaluation; the searches go through kb.client like every lookup command
(in-process over --index, or to --url), so the ranking checked is the API's.
"""

from __future__ import annotations

import json

import click

from kb.cli_lookups import _client, _error_line, source_options


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command("eval")
@click.argument("expectations", type=click.Path(exists=True, dir_okay=False))
@source_options
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (for CI).")
def eval_command(expectations: str, index_dir: str, url: str | None, as_json: bool) -> None:
    """Check that queries find the sections they should, from a YAML file of expectations.

    Each entry names a query and what it should find: section ids (`expect`), text a
    found section contains (`phrases`), or graded ids (`relevant`), optionally within the
    top N (`top`, default 10). Prints one row per query (PASS or FAIL and the rank where
    the first expected section came), then nDCG@10, success@1 and success@3. Exits 1 when
    any expectation fails, so a clinic's CI can guard its corpus and taxonomy.

    \b
    Example:
      kb eval expectations.yaml
      kb eval benchmarks/seed_queries.yaml --json
    """
    from kb.client import KBError
    from kb.evaluation import ExpectationError, judge, load_expectations, summary

    try:
        wanted = load_expectations(expectations)
    except ExpectationError as exc:
        raise click.ClickException(str(exc)) from None
    client = _client(index_dir, url)
    texts: dict[str, str] = {}

    def text_of(section_id: str) -> str:
        if section_id not in texts:
            section = client.section(section_id)
            texts[section_id] = f"{section['title']}\n{section['text']}"
        return texts[section_id]

    outcomes = []
    try:
        for expectation in wanted:
            limit = max(10, expectation.top)
            hits = client.search(expectation.query, limit=limit)["hits"]
            ranked = [hit["id"] for hit in hits]
            outcomes.append(judge(expectation, ranked, text_of))
    except KBError as exc:
        raise click.ClickException(_error_line(exc, "eval", url)) from None
    totals = summary(outcomes)
    if as_json:
        rows = [
            {
                "query": o.expectation.query,
                "line": o.expectation.line,
                "passed": o.passed,
                "rank": o.rank,
                "top": o.expectation.top,
                "expected": sorted(s for s, g in o.expectation.relevant.items() if g == 2)
                + list(o.expectation.phrases),
                "ranked": list(o.ranked),
            }
            for o in outcomes
        ]
        click.echo(json.dumps({"summary": totals, "queries": rows}, indent=2))
    else:
        click.echo(f"{'RESULT':6s} {'RANK':>4s} {'TOP':>3s}  {'QUERY':42s}  EXPECTED")
        for o in outcomes:
            expected = sorted(s for s, g in o.expectation.relevant.items() if g == 2)
            first = (expected or [f'"{p}"' for p in o.expectation.phrases])[0]
            more = len(expected) + len(o.expectation.phrases) - 1
            click.echo(
                f"{'PASS' if o.passed else 'FAIL':6s} {o.rank or '-':>4} {o.expectation.top:>3d}"
                f"  {_shorten(o.expectation.query, 42):42s}  {first}"
                + (f" (+{more})" if more > 0 else "")
            )
        click.echo(
            f"{totals['passed']} of {totals['queries']} passed; nDCG@10 {totals['nDCG@10']:.3f}, "
            f"success@1 {totals['success@1']:.1%}, success@3 {totals['success@3']:.1%}"
        )
    if totals["failed"]:
        raise SystemExit(1)
