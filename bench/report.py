"""Statistics, result rows and their rendering: the one place for medians,
ratios and number formatting in the benchmark.

A row is one figure: a value next to an optional baseline, target and verdict.
Values are floats (or a dict of floats for a breakdown, or a word such as
"yes"); render() derives each ratio from value and baseline.
"""
import json
import math
import statistics


def stats(samples):
    """Median, p99 (the nearest rank), min, max and count of samples, to 3 places."""
    s = sorted(samples)
    r = lambda x: round(x, 3)
    return {"median": r(statistics.median(s)), "p99": r(s[max(0, math.ceil(0.99 * len(s)) - 1)]),
            "min": r(s[0]), "max": r(s[-1]), "n": len(s)}


def median(values):
    return statistics.median(values)


def aggregate(runs, fs, fields, how=median):
    """Median (or how) of each field over the runs made on fs ("*": all runs).

    One field gives a number, several a dict keyed by field."""
    runs = [r for r in runs if fs == "*" or r["fs"] == fs]
    vals = {f: round(how([r.get(f, 0) for r in runs]), 4) for f in fields}
    return vals if len(vals) > 1 else next(iter(vals.values()))


def ratio(a, b, places=2):
    return round(a / b, places)


def _number(v):
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, dict):
        return {k: _number(x) for k, x in v.items()}
    return v


class Results:
    """The rows of one run, in the order they were measured."""

    def __init__(self):
        self.rows = []

    def add(self, fig, name, value, unit, base=None, base_name=None, target=None, met=None, note=None):
        r = {"figure": int(fig), "name": name, "value": _number(value), "unit": unit}
        if base is not None:
            r["baseline"] = _number(base)
            r["baseline_name"] = base_name
        if target:
            r["target"] = target
        if met is not None:
            r["met"] = bool(met)
        if note:
            r["note"] = note
        self.rows.append(r)


def fmt(v, unit):
    if isinstance(v, dict):
        return " / ".join(f"{x:.3f}" for x in v.values()) + f" {unit}"
    if isinstance(v, str) or v is None:
        return "" if v is None else v
    if unit == "ms":
        return f"{v:.1f} ms"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "MB":
        return f"{v:.1f} MB"
    if unit == "MB/s":
        return f"{v:.0f} MB/s"
    if unit == "x":
        return f"{v:.2f}"
    if unit == "B":
        return f"{int(v)} B"
    return f"{v:g} {unit}".strip()


def _with_ratios(rows):
    out = []
    for r in rows:
        r = dict(r)
        v, b = r["value"], r.get("baseline")
        if isinstance(v, float) and isinstance(b, float) and b:
            r["ratio"] = round(v / b, 3)
        out.append(r)
    return out


def render_json(meta, rows, out):
    rows = _with_ratios(rows)
    for r in rows:
        r["name"] = r["name"].strip()
    print(json.dumps({"meta": meta, "results": rows}, indent=1), file=out)


def _header(m, out):
    print(f"Slipway benchmark ({m['mode']})", file=out)
    if m["mode"] != "full":
        print(f"  QUICK RUN: smaller large workload, one run per push figure, {m['releases']} releases"
              f" instead of 10,000, {m['samples']} samples instead of 50; not comparable with full figures",
              file=out)
    print(f"  machine: {m['cores']} cores ({m['cpu']}), {m['mem_gb']} GB RAM, Linux {m['kernel']},"
          f" load average {m['load_start']} at start, {m['load_end']} at end; took {m['elapsed_s']} s",
          file=out)
    print(f"  git {m['git']}, zstd {m['zstd']}, libarchive {m['libarchive']} (libzstd {m['libzstd']}),"
          f" libgit2 {m['libgit2']}, GNU tar {m['tar']}", file=out)
    print(f"  root {m['work']} ({m['work_fs']}); tmpfs {m['tmpfs']}", file=out)
    for w in m["workloads"]:
        print(f"  workload {w['name']}: {w['files']} files, {w['bytes'] / 1e6:.1f} MB"
              f" ({w['big']} of {w['big_mb']} MB), seed {w['seed']}", file=out)
    print(file=out)


def render_table(meta, rows, out):
    rows = _with_ratios(rows)
    _header(meta, out)
    hdr = ("#", "figure", "slipway", "baseline", "ratio", "target", "verdict")
    table = []
    for r in rows:
        base = fmt(r["baseline"], r["unit"]) if "baseline" in r else ""
        rat = f"{r['ratio']:.2f}" if "ratio" in r else ""
        verdict = "" if "met" not in r else ("met" if r["met"] else "MISSED")
        table.append((str(r["figure"]), r["name"], fmt(r["value"], r["unit"]), base, rat,
                      r.get("target", ""), verdict))
    w = [max(len(x[i]) for x in table + [hdr]) for i in range(len(hdr))]
    line = lambda x: "  ".join(c.ljust(w[i]) for i, c in enumerate(x)).rstrip()
    print(line(hdr), file=out)
    print(line(tuple("-" * n for n in w)), file=out)
    for x in table:
        print(line(x), file=out)
    notes = [(r["figure"], r["name"], r["note"]) for r in rows if r.get("note")]
    base_names = sorted({(r["figure"], r["baseline_name"]) for r in rows if r.get("baseline_name")})
    if base_names:
        print("\nbaselines:", file=out)
        for f, n in base_names:
            print(f"  {f}: {n}", file=out)
    if notes:
        print("\nnotes:", file=out)
        for f, n, t in notes:
            print(f"  {f} {n}: {t}", file=out)
