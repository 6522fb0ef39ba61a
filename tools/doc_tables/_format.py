"""How numbers are written in the docs: significant digits, alphas, settings, times,
ratios, percentages, ranges and markdown tables."""

from __future__ import annotations

import math

from ._sources import PAPER_DIR


def sig(x: float, n: int = 2) -> str:
    """`x` to `n` significant digits: plain notation for 0.01 <= |x| < 1e5, otherwise
    `1.4e-5` style."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    e = math.floor(math.log10(abs(x)))
    r = round(x, n - 1 - e)
    if r != 0 and math.floor(math.log10(abs(r))) != e:  # rounding carried a digit (9.96 -> 10)
        e += 1
    if -2 <= e < 5:
        return f"{r:.{max(n - 1 - e, 0)}f}"
    m, ex = f"{x:.{n - 1}e}".split("e")
    return f"{m}e{int(ex)}"


def pval(p) -> str:
    """A p-value: two significant digits; underflow to 0 is shown as `< 1e-300`."""
    if p is None:
        return "n/a"
    return "< 1e-300" if p == 0 else sig(p, 2)


def a3(x: float) -> str:
    """An alpha or a distance: three decimals."""
    return f"{x:.3f}"


def setting(x: float) -> str:
    """A setting as the docs write it: 1e-3 rather than 0.001."""
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e") if 0 < abs(x) < 0.01 else f"{x:g}"


def pair(p, f=a3) -> str:
    return f"({f(p[0])}, {f(p[1])})"


def target(t) -> str:
    """A target pair as the paper writes it (0.342, not 0.3420; 1.0 stays 1.0)."""
    return "(" + ", ".join(f"{v:g}" if f"{v:g}" != "1" else "1.0" for v in t) + ")"


def ms(s: float, digits: int = 3) -> str:
    return f"{sig(1e3 * s, digits)} ms"


def secs(s: float) -> str:
    return f"{s:.0f} s"


def ratio(x: float, n: int = 3) -> str:
    return f"{sig(x, n)}x"


def pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def pct_range(xs) -> str:
    """`52-65 %` for fractions 0.52 ... 0.65."""
    return rng(xs, lambda x: f"{100 * x:.0f}") + " %"


def rng(xs, f) -> str:
    """`lo-hi` of the values (one value when they agree at that precision)."""
    lo, hi = f(min(xs)), f(max(xs))
    return lo if lo == hi else f"{lo}-{hi}"


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def dist(a, b) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def run_line(d: dict, what: str) -> str:
    """The provenance line of one experiment: file, scale, seed, settings, wall time."""
    cfg = d["config"]
    lr = cfg["learning_rate"]
    tau = cfg.get("tau_learning_rate")
    lr_text = f"learning rate {setting(lr)}" + (
        "" if tau is None else f" (time constants {setting(tau)})"
    )
    return (
        f"**Run** (`{PAPER_DIR}/{d['name']}.json`): {d['scale']} scale, seed {d['seed']}, "
        f"{what}, {lr_text}; `run` took {secs(d['runtime_s'])}."
    )
