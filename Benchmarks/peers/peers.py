#!/usr/bin/env python3
"""The Madras decision in the engines a user might pick instead of Rulebook.

Runs the same severity decision (inputs: number of people, a list of -1/0/+1 factor
weights, near miss; outputs: score, category, reportable) in

  * GoRules zen-engine: the JDM decision graph madras.jdm.json, through
    ZenEngine.evaluate with a loader;
  * Rego through opa-eval (the regorus engine): madras.rego, query data.madras.decision;

on the inputs rulebook-bench generated (OUT/madras-peer-inputs.jsonl, fixed seed),
cross-checks every output against Rulebook's own answer for the same case (one
`rulebook assess madras --batch` over OUT/madras-cases.jsonl), measures decisions per
second in process and the cold start of a whole process making one decision, and
prints one table with Rulebook's figures from OUT/results.json beside the peers'.

The peers run in a Python virtual environment made from PyPI (OUT/venv), with pinned
versions. Run it through `make bench` (or scripts/bench), which first runs
rulebook-bench; `--smoke` is the short run CI uses to keep it from rotting.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The peers, pinned so a run today and a run next month compare the same engines.
PEERS = {
    "zen": {"title": "GoRules zen-engine (JDM graph, ZenEngine.evaluate)", "package": "zen-engine", "version": "2.1.3"},
    "rego": {"title": "Rego via opa-eval (regorus)", "package": "opa-eval", "version": "0.1.1"},
}


def fail(message):
    print(f"peers.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def note(message):
    print(f"peers.py: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# The peer engines, in the virtual environment (worker mode)


def make_evaluator(peer):
    """A function from one input (a dict) to (score, category, reportable), and the
    input in the form the engine's API takes."""
    if peer == "zen":
        import zen

        with open(os.path.join(HERE, "madras.jdm.json"), encoding="utf-8") as f:
            content = f.read()
        engine = zen.ZenEngine({"loader": lambda key: content})

        def evaluate(request):
            r = engine.evaluate("madras", request)["result"]
            return r["score"], r["category"], r["reportable"]

        return evaluate, (lambda inp: inp)
    if peer == "rego":
        import opa_eval

        engine = opa_eval.OpaEval(os.path.join(HERE, "madras.rego"), query="data.madras.decision")

        def evaluate(request):
            r = engine.evaluate_parsed(request)
            return r["score"], r["category"], r["reportable"]

        # regorus takes its input as JSON text; the encoding is done before timing.
        return evaluate, (lambda inp: json.dumps(inp, separators=(",", ":")))
    fail(f"unknown peer {peer}")


def worker(args):
    """Decisions per second in this process: warm-up, then timed passes over every input;
    the first pass's outputs are written for the cross-check."""
    with open(args.inputs, encoding="utf-8") as f:
        inputs = [json.loads(line) for _, line in zip(range(args.cases), f)]
    evaluate, prepare = make_evaluator(args.worker)
    requests = [prepare(i) for i in inputs]
    for r in requests[: min(len(requests), 2000)]:
        evaluate(r)
    rates = []
    outputs = None
    for run in range(args.runs):
        start = time.perf_counter()
        results = [evaluate(r) for r in requests]
        rates.append(len(requests) / (time.perf_counter() - start))
        if outputs is None:
            outputs = results
    with open(args.outputs, "w", encoding="utf-8") as f:
        for score, category, reportable in outputs:
            f.write(json.dumps([score, category, reportable]) + "\n")
    json.dump({"rates": rates, "cases": len(requests)}, sys.stdout)


COLD_SNIPPET = """
import sys
sys.path.insert(0, {here!r})
import peers
evaluate, prepare = peers.make_evaluator({peer!r})
print(evaluate(prepare({{"people": 292, "factors": [1], "near_miss": False}})))
"""


# --------------------------------------------------------------------------------------
# The driver (system Python)


def ensure_venv(out):
    venv = os.path.join(out, "venv")
    python = os.path.join(venv, "bin", "python")
    wanted = [f"{p['package']}=={p['version']}" for p in PEERS.values()]
    probe = "import importlib.metadata as m, sys; sys.exit(0 if all(m.version(w.split('==')[0]) == w.split('==')[1] for w in sys.argv[1:]) else 1)"
    if os.path.exists(python) and subprocess.run([python, "-c", probe, *wanted], capture_output=True).returncode == 0:
        return python
    note(f"making a virtual environment in {venv} with {', '.join(wanted)} from PyPI")
    r = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"could not make a virtual environment ({r.stderr.strip().splitlines()[-1] if r.stderr.strip() else 'no message'}); "
             "on Debian, apt-get install python3-venv")
    r = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"pip could not install {', '.join(wanted)}:\n{r.stderr.strip()}")
    return python


LAUNCHER = None  # bench-launch, set from --rulebook: see spawn_measured


def spawn_measured(argv):
    """Runs a child through bench-launch (built beside rulebook); returns (seconds, peak
    RSS in KiB, completed process). The launcher measures the child alone: started from
    this process, a child would inherit its memory high-water mark. Output goes to files,
    so a chatty child never blocks on a full pipe."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".launch") as result:
        r = subprocess.run([LAUNCHER, result.name, *argv], stdout=out, stderr=err)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
        fields = open(result.name, encoding="utf-8").read().split()
        if r.returncode != 0 or len(fields) != 3:
            fail(f"bench-launch failed running {argv[0]} (exit status {r.returncode}):\n{stderr.strip()}")
    status, nanoseconds, rss = (int(f) for f in fields)
    return nanoseconds / 1e9, rss, subprocess.CompletedProcess(argv, status, stdout, stderr)


def rulebook_outputs(args, spec, cases_path, count):
    """Rulebook's answers for the first `count` cases: one batch process."""
    subset = os.path.join(args.out, "peers-cases.jsonl")
    with open(cases_path, encoding="utf-8") as src, open(subset, "w", encoding="utf-8") as dst:
        for _, line in zip(range(count), src):
            dst.write(line)
    argv = [args.rulebook, "assess", spec["policy"], "--batch", subset, "--at", spec["at"],
            "--policies", os.path.join(args.root, "Policies")]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(argv)} failed (exit status {r.returncode}):\n{r.stderr.strip()}")
    names = spec["outputs"]
    answers = []
    for line in r.stdout.splitlines():
        values = json.loads(line)["values"]
        answers.append((values[names["score"]], values[names["category"]], values[names["reportable"]]))
    if len(answers) != count:
        fail(f"rulebook answered {len(answers)} of {count} cases")
    return answers


def cross_check(peer, theirs, ours):
    mismatches = [(i, t, o) for i, (t, o) in enumerate(zip(theirs, ours)) if tuple(t) != tuple(o)]
    if len(theirs) != len(ours):
        fail(f"{peer} answered {len(theirs)} cases, Rulebook {len(ours)}")
    for i, t, o in mismatches[:5]:
        note(f"{peer} disagrees on case {i + 1}: (score, category, reportable) = {tuple(t)}, Rulebook says {tuple(o)}")
    return len(theirs) - len(mismatches)


def cold_start(python, peer, runs):
    argv = [python, "-c", COLD_SNIPPET.format(here=HERE, peer=peer)]
    times, rss = [], 0
    for run in range(2 + runs):
        seconds, peak, r = spawn_measured(argv)
        if r.returncode != 0 or "(3, 2, True)" not in r.stdout:
            fail(f"the {peer} cold-start process failed or answered wrongly:\n{r.stdout}{r.stderr}")
        if run >= 2:
            times.append(seconds * 1000)
            rss = max(rss, peak)
    return times, rss


def fmt(x):
    if x is None:
        return ""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= limit:
            return f"{x / limit:.2f}{suffix}" if abs(x) < 10 * limit else f"{x / limit:.1f}{suffix}" if abs(x) < 100 * limit else f"{x / limit:.0f}{suffix}"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def versus(ours, theirs, higher_is_better):
    """How the peer compares with Rulebook, in words: "38× slower", "1.2× faster"."""
    ratio = ours / theirs if higher_is_better else theirs / ours
    if ratio >= 1:
        return f"{ratio:.0f}× slower" if ratio >= 10 else f"{ratio:.1f}× slower"
    return f"{1 / ratio:.1f}× faster"


def spread(values):
    if len(values) < 2:
        return 0.0
    q = statistics.quantiles(values, n=4)
    return (q[2] - q[0]) / statistics.median(values)


def render(rows, right):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        cells = [c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog="Run rulebook-bench first: this reads its inputs and results.json.")
    p.add_argument("--out", default="bench-out", help="rulebook-bench's output folder (default: bench-out)")
    p.add_argument("--root", default=ROOT, help="the repository (default: this script's)")
    p.add_argument("--rulebook", default=os.path.join(ROOT, ".build", "release", "rulebook"),
                   help="the rulebook executable the benchmarks measured")
    p.add_argument("--cases", type=int, default=100_000, help="cases each peer decides per run (default: 100000)")
    p.add_argument("--runs", type=int, default=5, help="timed runs per peer after the warm-up (default: 5)")
    p.add_argument("--smoke", action="store_true", help="a short run that only proves the comparison works (CI)")
    p.add_argument("--worker", choices=sorted(PEERS), help=argparse.SUPPRESS)
    p.add_argument("--inputs", help=argparse.SUPPRESS)
    p.add_argument("--outputs", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    if args.smoke:
        args.cases, args.runs = min(args.cases, 2000), 1
    args.out = os.path.abspath(args.out)
    args.root = os.path.abspath(args.root)
    args.rulebook = os.path.abspath(args.rulebook)

    results_path = os.path.join(args.out, "results.json")
    if not os.path.exists(results_path):
        fail(f"{results_path} does not exist: run rulebook-bench first (make bench does both)")
    if not os.access(args.rulebook, os.X_OK):
        fail(f"no rulebook executable at {args.rulebook} (--rulebook)")
    global LAUNCHER
    LAUNCHER = os.path.join(os.path.dirname(args.rulebook), "bench-launch")
    if not os.access(LAUNCHER, os.X_OK):
        fail(f"no bench-launch beside {args.rulebook}: build it with the benchmarks (make bench does)")
    with open(results_path, encoding="utf-8") as f:
        ours = {r["id"]: r for r in json.load(f)}
    with open(os.path.join(HERE, "decision.json"), encoding="utf-8") as f:
        spec = json.load(f)
    inputs = os.path.join(args.out, f"{spec['policy']}-peer-inputs.jsonl")
    cases = os.path.join(args.out, f"{spec['policy']}-cases.jsonl")
    for path in (inputs, cases):
        if not os.path.exists(path):
            fail(f"{path} does not exist: run rulebook-bench's batch benchmark first")
    with open(inputs, encoding="utf-8") as f:
        available = sum(1 for _ in f)
    count = min(args.cases, available)

    python = ensure_venv(args.out)
    note(f"Rulebook's answers for {count} cases")
    answers = rulebook_outputs(args, spec, cases, count)

    peers = {}
    for peer in PEERS:
        note(f"{peer}: {count} decisions per run, {args.runs} runs after warm-up")
        outputs = os.path.join(args.out, f"peers-{peer}-outputs.jsonl")
        argv = [python, os.path.abspath(__file__), "--worker", peer, "--inputs", inputs, "--outputs", outputs,
                "--cases", str(count), "--runs", str(args.runs)]
        _, peak, r = spawn_measured(argv)
        if r.returncode != 0:
            fail(f"the {peer} benchmark failed:\n{r.stderr.strip()}")
        measured = json.loads(r.stdout)
        with open(outputs, encoding="utf-8") as f:
            theirs = [json.loads(line) for line in f]
        agreed = cross_check(peer, theirs, answers)
        note(f"{peer}: cold start")
        cold, cold_rss = cold_start(python, peer, 3 if args.smoke else 15)
        peers[peer] = {"rates": measured["rates"], "rss": peak, "agreed": agreed, "cold": cold, "cold_rss": cold_rss}

    # A bare Python process, the floor under both peers' cold start.
    bare = [spawn_measured([python, "-c", "pass"])[0] * 1000 for _ in range(5 if args.smoke else 15)]

    assess, cold = ours.get("assess"), ours.get("cold-start")
    if assess is None or cold is None:
        fail("results.json lacks the assess or cold-start benchmark: run rulebook-bench all")
    our_rate = assess["stats"]["median"]
    our_cold = cold["extra"]["rulebook_ms"]
    mib = lambda kib: f"{kib / 1024:.1f} MiB" if kib else ""

    rows = [["benchmark", "engine", "median", "unit", "spread", "target", "", "vs Rulebook", "peak RSS", "agree"]]
    rows.append(["(a) Madras decision, in process", "Rulebook", fmt(our_rate), "decisions/s",
                 f"±{assess['stats']['spread'] * 50:.1f}%", "≥ 2.00M", "met" if our_rate >= 2e6 else "MISSED", "1×",
                 mib(assess.get("peakRSSKiB")), "reference"])
    for peer, m in peers.items():
        rate = statistics.median(m["rates"])
        rows.append(["", f"{PEERS[peer]['package']} {PEERS[peer]['version']}", fmt(rate), "decisions/s",
                     f"±{spread(m['rates']) * 50:.1f}%", "", "", versus(our_rate, rate, True), mib(m["rss"]),
                     f"{m['agreed']}/{count}"])
    rows.append(["(e) cold start, one decision", "Rulebook", f"{our_cold:.2f}", "ms", "", "", "", "1×",
                 mib(cold.get("peakRSSKiB")), ""])
    rows.append(["", "bare Swift process (hello)", f"{cold['extra']['hello_ms']:.2f}", "ms", "", "", "", "", "", ""])
    rows.append(["", "Rulebook ÷ hello", fmt(cold["stats"]["median"]), "×", f"±{cold['stats']['spread'] * 50:.1f}%",
                 "≤ 3.00", "met" if cold["stats"]["median"] <= 3 else "MISSED", "", "", ""])
    for peer, m in peers.items():
        ms = statistics.median(m["cold"])
        rows.append(["", f"{PEERS[peer]['package']} {PEERS[peer]['version']}", f"{ms:.1f}", "ms",
                     f"±{spread(m['cold']) * 50:.1f}%", "", "", versus(our_cold, ms, False), mib(m["cold_rss"]), ""])
    rows.append(["", "bare Python process", f"{statistics.median(bare):.1f}", "ms", "", "", "", "", "", ""])
    titles = {"batch": "(b) assess --batch, end to end", "audit": "(d) audit, 1M events + hash chain",
              "register/commit": "(f) register: durable appends", "register/group": "(f) register: one commit per trail",
              "list/10000": "(g) list, 10k incidents / 90k events", "list/100000": "(g) list, 100k incidents / 900k events",
              "list/100": "(g) list, 100 incidents (smoke)", "record": "(g) record, one event (process)",
              "record/signed": "(g) record, head signed (process)"}
    for r in ours.values():
        if r["id"] in ("assess", "cold-start"):
            continue
        title = titles.get(r["id"]) or ("(c) next, " + r["id"].split("/", 1)[1] if r["id"].startswith("next/") else r["id"])
        target = r.get("target")
        status = "" if target is None else ("met" if (r["stats"]["median"] >= target) == r["higherIsBetter"] else "MISSED")
        rows.append([title, "Rulebook", fmt(r["stats"]["median"]), r["unit"], f"±{r['stats']['spread'] * 50:.1f}%",
                     "" if target is None else ("≥ " if r["higherIsBetter"] else "≤ ") + fmt(target), status, "",
                     mib(r.get("peakRSSKiB")), ""])
    if args.smoke:
        print("SMOKE RUN: too short for the figures to mean anything")
    print(render(rows, right={2, 4, 7, 8, 9}))
    print(f"\nSame {count} generated cases (seed from rulebook-bench) for every engine; median of runs, "
          "spread = interquartile range / median / 2.")
    print("Peers run from Python, as a user of their Python packages would call them; "
          "Rulebook's in-process figure is its Swift library on one core.")
    with open(os.path.join(args.out, "peers.json"), "w", encoding="utf-8") as f:
        json.dump({"cases": count, "rulebook_answers_checked": count, "peers": peers,
                   "bare_python_ms": bare}, f, indent=2)
    if any(m["agreed"] != count for m in peers.values()):
        fail("a peer disagreed with Rulebook (cases listed above)")


if __name__ == "__main__":
    main()
