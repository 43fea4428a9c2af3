"""``gumbelcheck plan``: how many samples a deviation needs (not a check: no verdict)."""

from __future__ import annotations

from typing import Annotated

import typer

from gumbelcheck.cli.app import EXIT_PASS, app
from gumbelcheck.cli.options import Alpha, Json, Logits, Normalize, Pi
from gumbelcheck.core.errors import InputError

EPILOG = """\
Examples:

  gumbelcheck plan --pi 0.1,0.2,0.7 --tv 1e-4

  gumbelcheck plan --pi 0.1,0.2,0.7 --w 0.01 --alpha 0.001 --power 0.99
"""


@app.command(epilog=EPILOG)
def plan(
    pi: Pi = None,
    logits: Logits = None,
    normalize: Normalize = False,
    tv: Annotated[str | None, typer.Option(help="Total-variation distance to detect.")] = None,
    w: Annotated[str | None, typer.Option(help="Cohen's w to detect (instead of --tv).")] = None,
    alpha: Alpha = "0.01",
    power: Annotated[str, typer.Option(help="Probability of catching the deviation.")] = "0.9",
    json: Json = False,
) -> int:
    """How many samples maxtrick needs to catch a deviation (noncentral chi-square power)."""
    from gumbelcheck.checks.plan import plan as run

    result = run(
        pi,
        logits=logits,
        normalize=normalize,
        tv=None if tv is None else _number(tv, "`tv`"),
        w=None if w is None else _number(w, "`w`"),
        alpha=_number(alpha, "`alpha`"),
        power=_number(power, "`power`"),
    )
    if json:
        from gumbelcheck.output.json import to_json

        typer.echo(to_json(result.to_dict()), nl=False)
        return EXIT_PASS
    asked = (
        f"total variation {result.tv:g} (w = 2 TV = {result.w:g})"
        if result.tv
        else f"w = {result.w:g}"
    )
    from rich.text import Text

    from gumbelcheck.cli.progress import console

    console().print(
        Text(
            f"To catch {asked} with power {result.power:g} at alpha = {result.alpha:g} "
            f"(df = {result.df}, noncentrality {result.noncentrality:.4g}):\n"
            f"  --samples {result.samples:,}  ({result.samples:.3g})"
        )
    )
    return EXIT_PASS


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{name} {text!r} is not a number") from None
