"""Colouring nodes by the size of their gradient, on a log scale, with a legend.

Vanishing gradients (0, or smaller than a threshold) are grey; exploding ones (larger
than a threshold) and non-finite ones (inf, nan) are red: both stand out at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

# light to dark, with the text colour each needs to stay readable
PALETTE = [
    ("#ffffd9", "black"),
    ("#edf8b1", "black"),
    ("#c7e9b4", "black"),
    ("#7fcdbb", "black"),
    ("#41b6c4", "black"),
    ("#1d91c0", "white"),
    ("#225ea8", "white"),
    ("#0c2c84", "white"),
]
VANISHING = ("#d9d9d9", "#595959")
EXPLODING = ("#e31a1c", "white")


@dataclass(frozen=True)
class GradientScale:
    """Maps |grad| to a colour: log10 |grad| from ``low`` to ``high`` across the palette."""

    low: float
    high: float
    vanishing: float
    exploding: float

    @classmethod
    def fit(cls, grads: Iterable[float], vanishing: float, exploding: float) -> GradientScale:
        """A scale spanning the ordinary gradients among ``grads``."""
        logs = [math.log10(abs(g)) for g in grads if math.isfinite(g) and vanishing <= abs(g) <= exploding]
        low, high = (min(logs), max(logs)) if logs else (0.0, 0.0)
        return cls(low, high, vanishing, exploding)

    def kind(self, grad: float) -> str:
        """ "vanishing", "exploding" (including inf and nan) or "ordinary"."""
        if not math.isfinite(grad) or abs(grad) > self.exploding:
            return "exploding"
        return "vanishing" if abs(grad) < self.vanishing else "ordinary"

    def colours(self, grad: float) -> tuple[str, str]:
        """(background, text) for a gradient."""
        kind = self.kind(grad)
        if kind != "ordinary":
            return EXPLODING if kind == "exploding" else VANISHING
        span = self.high - self.low
        position = 0.0 if span == 0 else (math.log10(abs(grad)) - self.low) / span
        return PALETTE[min(int(position * len(PALETTE)), len(PALETTE) - 1)]

    def legend(self) -> str:
        """An HTML-like label: the palette with its range, and the two warning colours."""
        cells = "".join(f'<td bgcolor="{bg}" width="14"> </td>' for bg, _ in PALETTE)
        rows = [
            f'<tr><td align="left">|grad| 1e{self.low:.1f}</td>{cells}<td align="left">1e{self.high:.1f}</td></tr>',
            f'<tr><td align="left" colspan="10" bgcolor="{VANISHING[0]}"><font color="{VANISHING[1]}">'
            f"vanishing: |grad| &lt; {self.vanishing:g}</font></td></tr>",
            f'<tr><td align="left" colspan="10" bgcolor="{EXPLODING[0]}"><font color="{EXPLODING[1]}">'
            f"exploding: |grad| &gt; {self.exploding:g}, inf or nan</font></td></tr>",
        ]
        return f'<<table border="0" cellborder="0" cellspacing="1" cellpadding="3">{"".join(rows)}</table>>'
