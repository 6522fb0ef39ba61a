"""Renderers of the benchmark tables and sentences, from `benchmarks/results.json`."""

from __future__ import annotations

from ._format import ms, pct, ratio, secs, sig, table
from ._sources import BENCH, renderer
from ._summary import EXPERIMENT_NAMES, _paper_runtime

# The project's speed targets (settings, not results).
TARGETS = {
    "forward_vs_nn4n": (">=", 5.0, "x"),
    "train_step_vs_nn4n": (">=", 3.0, "x"),
    "diffrax_forward": ("<=", 1.15, "x"),
    "diffrax_grad": ("<=", 1.15, "x"),
    "roofline": (">=", 0.5, "of peak"),
    "ensemble_200": ("<=", 2e-3, "s"),
    "compile": ("<=", 2.0, "s"),
    "paper_fig2": ("<=", 300.0, "s"),
    "paper_all": ("<=", 1800.0, "s"),
}


def _target(key: str, value: float) -> str:
    op, thr, unit = TARGETS[key]
    met = value >= thr if op == ">=" else value <= thr
    if unit == "x":
        shown = f"{thr:g}x"
    elif unit == "of peak":
        shown = f"{100 * thr:g} %"
    elif key.startswith("paper"):
        shown = f"{thr / 60:g} min"
    elif thr < 1:
        shown = f"{1e3 * thr:g} ms"
    else:
        shown = f"{thr:g} s"
    return f"{op} {shown}: {'met' if met else 'not met'}"


def _timing(entry: dict, key: str):
    v = entry.get(key) if isinstance(entry, dict) else None
    return v.get("median_s") if isinstance(v, dict) else None


def peers(b: dict) -> list[tuple[str, dict]]:
    """Every peer framework measured on the CTRNN benchmark: any entry of `b` (searched
    a few levels deep) with `forward` and `train_step` medians, other than adaptive_rnn's
    own entries and entries marked `skipped`; with its path of keys (`nn4n/nn4n`)."""
    found: list[tuple[str, dict]] = []

    def walk(node, path, depth):
        if not isinstance(node, dict) or depth > 4 or "skipped" in node:
            return
        if _timing(node, "forward") is not None and _timing(node, "train_step") is not None:
            found.append(("/".join(path), node))
            return
        for k, v in node.items():
            if not str(k).startswith("adaptive_rnn"):
                walk(v, path + [str(k)], depth + 1)

    walk(b, [], 0)
    return found


PEER_NAMES = {"nn4n": "NN4N", "brainpy": "BrainPy"}


def _peer_label(key: str, v: dict) -> str:
    """`NN4N (nn4n 1.1.1, torch 2.13.0; 2 threads)` from whatever the entry records."""
    last = key.split("/")[-1]
    name = v.get("name") or PEER_NAMES.get(last.split("_")[0], key)
    vers = v.get("versions", v.get("version"))
    vtext = (
        ", ".join(f"{k} {x}" for k, x in vers.items())
        if isinstance(vers, dict)
        else str(vers or "")
    )
    threads = v.get("threads", v.get("torch_threads"))
    ttext = "" if threads is None else f"{threads} thread{'' if threads == 1 else 's'}"
    bits = [b for b in (vtext, ttext) if b]
    return name + (f" ({'; '.join(bits)})" if bits else "")


@renderer("bench_setup")
def _bench_setup(S):
    b = S.bench
    m = b["machine"]
    gpu = b.get("gpu", {})
    return (
        f"Run of {b['date'][:10]} (`{BENCH}`): {m['platform']}, {m['cpu_count']} CPU cores "
        f"({m['processor']}), jax {m['jax']}, float32, {b['cpu']['devices']} JAX CPU "
        f"device{'' if b['cpu']['devices'] == 1 else 's'}, "
        f"{'5 repeats (`--quick`)' if b.get('quick') else '9 repeats'}; the whole run took "
        f"{secs(b['total_s'])}{_paper_note(b)}. GPU: "
        + (
            f"{gpu.get('device')}."
            if gpu.get("available")
            else "none in this run (the GPU section reports none)."
        )
    )


@renderer("bench_table")
def _bench_table(S):
    b = S.bench
    rows = []
    nn = b.get("nn4n", {})
    cfg = nn.get("config", {})
    ours, one = nn.get("adaptive_rnn", {}), nn.get("adaptive_rnn_one_device", {})
    shape = f"N={cfg.get('n_hidden')}, B={cfg.get('batch')}, T={cfg.get('steps')}"
    for key, what in (("forward", "forward"), ("train_step", "train step (MSE, backward, Adam)")):
        if _timing(ours, key) is not None:
            rows.append(
                [
                    f"CTRNN {what}, {shape}, batch split over {ours.get('devices')} devices",
                    f"{ms(ours[key]['median_s'])} (min {ms(ours[key]['min_s'])})",
                    "",
                ]
            )
        if _timing(one, key) is not None:
            rows.append(
                [
                    f"CTRNN {what}, one device",
                    f"{ms(one[key]['median_s'])} (min {ms(one[key]['min_s'])})",
                    "",
                ]
            )
    for key, v in peers(b):
        pf, pt_ = v["forward"]["median_s"], v["train_step"]["median_s"]
        vs = []
        for what, o in (("ours", ours), ("ours on one device", one)):
            if _timing(o, "forward") is not None and _timing(o, "train_step") is not None:
                vs.append(
                    f"{ratio(pf / o['forward']['median_s'])} / {ratio(pt_ / o['train_step']['median_s'])} "
                    f"vs {what}"
                )
        rows.append(
            [
                f"CTRNN forward / train step, {_peer_label(key, v)}; peer time / our time",
                f"{ms(pf)} / {ms(pt_)}" + (f" ({'; '.join(vs)})" if vs else ""),
                "",
            ]
        )
    r = b.get("ratios", {})
    for key, what in (("forward_vs_nn4n", "forward"), ("train_step_vs_nn4n", "train step")):
        if key in r:
            extra = (
                f" (one device {ratio(r[key + '_one_device'])})" if key + "_one_device" in r else ""
            )
            rows.append(
                [
                    f"NN4N time / our time, {what}",
                    f"**{ratio(r[key])}**{extra}",
                    _target(key, r[key]),
                ]
            )
    pt = b.get("paths", {}).get("timings", {})
    pc = b.get("paths", {}).get("config", {})
    pshape = f"N={pc.get('n_hidden')}, B={pc.get('batch')}, T={pc.get('steps')}"
    if "forward_scan" in pt and "forward_diffrax" in pt:
        rows.append(
            [
                f"ARU forward, scan / diffrax fixed grid ({pshape})",
                f"{ms(pt['forward_scan']['median_s'])} / {ms(pt['forward_diffrax']['median_s'])}",
                "",
            ]
        )
    if "grad_scan" in pt and "grad_diffrax" in pt:
        rows.append(
            [
                "ARU value_and_grad, scan / diffrax",
                f"{ms(pt['grad_scan']['median_s'])} / {ms(pt['grad_diffrax']['median_s'])}",
                "",
            ]
        )
    for key, tkey, what in (
        ("diffrax_euler_vs_scan", "diffrax_forward", "forward"),
        ("diffrax_euler_vs_scan_grad", "diffrax_grad", "gradient"),
    ):
        if key in r:
            rows.append(
                [f"diffrax time / scan time, {what}", f"**{ratio(r[key])}**", _target(tkey, r[key])]
            )
    mp = b.get("matmul_peak")
    if mp:
        sizes = ", ".join(
            f"{k.replace('_split', ' split')}: {v:.0f}" for k, v in mp["by_size"].items()
        )
        rows.append(
            [
                "matmul peak: best large float32 dot, GF/s (per size, one device or rows split)",
                f"{mp['gflops']:.0f} GF/s ({sizes})",
                "",
            ]
        )
    for key, what in (("roofline", "model sweep"), ("roofline_batch", "batch sweep")):
        rf = b.get(key)
        if rf:
            c = rf["config"]
            desc = (
                f"{c['models']} models x {c['batch']}"
                if c["models"] > 1
                else f"1 model x {c['batch']}"
            )
            worst = min(rf["forward_fraction_of_peak"], rf["gradient_fraction_of_peak"])
            rows.append(
                [
                    f"roofline, {what} ({desc}, N={c['n_hidden']}, over {c['devices']} devices): "
                    "forward / gradient, fraction of the matmul peak",
                    f"{pct(rf['forward_fraction_of_peak'])} / {pct(rf['gradient_fraction_of_peak'])}",
                    _target("roofline", worst),
                ]
            )
    ens = b.get("ensemble", {})
    if ens:
        ks = sorted(ens, key=int)
        rows.append(
            [
                f"fit_ensemble, one paper epoch per member, M = {' / '.join(ks)} members",
                " / ".join(ms(ens[k]["ours_per_model_s"]) for k in ks),
                _target("ensemble_200", ens["200"]["ours_per_model_s"]) if "200" in ens else "",
            ]
        )
        rows.append(
            [
                "... plain vmap of scan + Adam (baseline), same M",
                " / ".join(ms(ens[k]["baseline_per_model_s"]) for k in ks),
                "",
            ]
        )
    comp = b.get("compile", {})
    names = (
        ("simulate_aru_b64_t500", "simulate"),
        ("solve_aru_tsit5", "solve Tsit5"),
        ("fit_paper_epoch", "fit epoch"),
        ("fit_ensemble_200", "ensemble of 200"),
    )
    have = [(k, n) for k, n in names if k in comp]
    if have:
        vals = [comp[k]["with_cache_s"] for k, _ in have]
        rows.append(
            [
                "compile, fresh process, cache filled (first call minus second): "
                + " / ".join(n for _, n in have),
                " / ".join(f"{v:.2f} s" for v in vals),
                _target("compile", max(vals)),
            ]
        )
    mem = b.get("memory", {})
    if mem:
        lens = sorted(next(iter(mem.values())), key=int)
        mib = lambda x: sig(x / 2**20, 2)  # noqa: E731
        labels = {
            "scan": "scan",
            "diffrax_checkpoint_all": "diffrax, one checkpoint per step",
            "diffrax_recursive_checkpoint_100": "diffrax, 100 recursive checkpoints",
        }
        for k, v in mem.items():
            label = labels.get(
                k, f"scan with `remat={k.rsplit('_', 1)[1]}`" if k.startswith("scan_remat_") else k
            )
            rows.append(
                [
                    f"gradient temporary memory, T = {' / '.join(lens)} (ARU, 64 units): {label}",
                    " / ".join(mib(v[t]) for t in lens) + " MiB",
                    "",
                ]
            )
    p = b.get("paper", {})
    for k, tkey in (("fig2", "paper_fig2"), ("all", "paper_all")):
        if k in p:
            rows.append(
                [
                    f"`adaptive-rnn reproduce {k} --scale paper`, wall",
                    secs(p[k]["wall_s"]),
                    _target(tkey, p[k]["wall_s"]),
                ]
            )
    return table(["benchmark", "result (median of the repeats for times)", "target"], rows)


@renderer("bench_gpu")
def _bench_gpu(S):
    g = S.bench.get("gpu", {})
    if not g.get("available"):
        return "No GPU in this run: `run.py` fills this section where one is."
    rows = [
        [k, f"{v['forward_steps_per_s']:.3g}", f"{v['grad_steps_per_s']:.3g}"]
        for k, v in g.get("throughput", {}).items()
    ]
    return f"GPU: {g.get('device')}.\n\n" + table(
        ["size", "forward steps/s", "gradient steps/s"], rows
    )


@renderer("bench_paper")
def _bench_paper(S):
    rows = [[f"`{n}`", secs(S.paper(n)["runtime_s"])] for n in EXPERIMENT_NAMES]
    return table(["experiment", "`run` time (`runtime_s`)"], rows) + "\n\n" + _paper_runtime(S)


@renderer("training_ensemble_cost")
def _training_ensemble_cost(S):
    b = S.bench
    e = b.get("ensemble", {}).get("200")
    if not e:
        return "The per-member cost is in `benchmarks/README.md`."
    return (
        f"In the latest benchmark run ({b['date'][:10]}, {b['cpu']['devices']} JAX CPU devices on a "
        f"{b['machine']['cpu_count']}-core CPU) a paper-sized epoch of 200 members cost "
        f"{ms(e['ours_per_model_s'])} per member (`python benchmarks/bench_ensemble.py`; "
        f"`{BENCH}`)."
    )


def _paper_note(b: dict) -> str:
    """Whether the run's total includes the paper-scale commands, or from which earlier
    run their timings come."""
    if "paper" not in b:
        return ""
    measured = b["paper"].get("measured")
    if measured:
        return f" (the paper-scale timings come from the full run of {str(measured)[:10]})"
    return " (the paper-scale commands included)"
