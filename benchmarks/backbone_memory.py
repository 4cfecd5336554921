"""KGFM backbones at scale: the chunked message passing against the earlier per-edge layers, side by side.

    python benchmarks/backbone_memory.py [--backbones ultra trix motif semma] [--positives 1 4 16 64]
        [--implementations chunked per_edge] [--steps 3] [--device cpu] [--data-root ../shared/data]
        [--sections step zero_shot large]

Three sections, each configuration measured in a fresh child process:

* ``step``: one training step of each backbone's released checkpoint on the FB15k-237 training graph
  (14,541 entities, 544,230 edges with inverses): ``--negatives`` strict-uniform negatives per positive,
  AdamW, the batch's edges hidden (upstream's recipe). The graph's derived structures (relation graph,
  hypergraph, text embeddings) are built by a no-grad forward first; then the first training step's peak
  memory above its start is taken (resident memory polled every 2 ms on CPU, ``max_memory_allocated`` on
  CUDA) and the following steps are timed. A size whose memory, extrapolated from the previous size, would
  pass ``--memory-limit-gb`` is reported as not fitting instead of run.
* ``zero_shot``: the 822 test queries of GraIL FB15k-237 v1, eval batch 32, median of ``--repeats`` passes,
  with the metrics (which must agree between implementations).
* ``large``: ULTRA zero-shot at default settings (eval batch 16 triples, default message-passing options)
  on the first ``--large-triples`` test triples of FB15k-237, CoDEx-M, ILPC 2022 large and ConceptNet-100k:
  seconds per query, the whole test set's time extrapolated, and the peak memory of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PeakRSS

BACKBONES = ("ultra", "trix", "motif", "semma")
IMPLEMENTATIONS = ("chunked", "per_edge")
LARGE_GRAPHS = ("fb15k-237", "codex-m", "ilpc2022_large", "conceptnet-100k")
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"


# ----------------------------------------------------------------------------- child processes
def build_backbone(name: str, implementation: str, root: Path) -> torch.nn.Module:
    from lit_kgns.backbones import Motif, Semma, Trix, Ultra
    from lit_kgns.backbones.message_passing import MessagePassingOptions

    options = MessagePassingOptions(implementation=implementation)
    os.environ["LIT_KGNS_DATA"] = str(root)  # released checkpoints are found by name under the data root
    if name == "ultra":
        return Ultra(checkpoint="ultra_3g", message_passing=options)
    if name == "trix":
        return Trix(checkpoint="trix", message_passing=options)
    if name == "motif":
        return Motif(checkpoint="motif_3g", message_passing=options)
    return Semma(checkpoint="semma", text_encoder="offline", reduction="project", message_passing=options)


def load_split(name: str, root: Path, stage: str) -> Any:
    """A catalog split, or one of the large graphs the catalog does not list yet, read from its folder."""
    from lit_kgns.data.catalog import available_datasets, load_dataset
    from lit_kgns.data.splits import ILPC_FILES, inference_graph_inductive, transductive

    if name in available_datasets():
        dataset = load_dataset(name, root)
    elif name == "ilpc2022_large":
        dataset = inference_graph_inductive(name, root / name, ILPC_FILES, "inductive_e")
    else:  # ConceptNet-100k: TAB-separated files without extension, labels with spaces
        dataset = transductive(name, root / name, ("train", "valid", "test"))
    return getattr(dataset, stage)


def warm(model: torch.nn.Module, graph: Any, triples: torch.Tensor) -> None:
    """Build and cache the graph's derived structures with a no-grad forward: not part of what is measured."""
    with torch.no_grad():
        head_query = torch.zeros(1, dtype=torch.bool, device=triples.device)
        model(graph, triples[:1, 0], triples[:1, 1], head_query)


def measure_step(args: argparse.Namespace) -> dict[str, Any]:
    from lit_kgns.losses import self_adversarial_bce
    from lit_kgns.samplers import StrictUniformSampler
    from lit_kgns.scoring import score_candidates

    device = torch.device(args.device)
    model = build_backbone(args.backbone, args.implementation, args.data_root).to(device).train()
    sampler = StrictUniformSampler(num_negatives=args.negatives, seed=0)
    sampler.attach([load_split("fb15k-237", args.data_root, "train")], device)
    train = sampler.graphs[0]
    warm(model, train.graph, train.triples)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    generator = torch.Generator().manual_seed(0)
    times, peak_mb = [], 0.0
    for step in range(args.steps):
        indices = torch.randint(len(train.triples), (args.positives,), generator=generator)
        positives = train.triples[indices.to(device)]
        sampler.reseed(0, step, device)
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
        with PeakRSS() as rss:
            start = time.perf_counter()
            negatives = sampler.sample(positives)
            loss = self_adversarial_bce(score_candidates(model, train.graph, positives, negatives), negatives.mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        if step == 0:  # later steps reuse memory the allocator kept: only the first peak is clean on CPU
            peak_mb = (torch.cuda.max_memory_allocated() - before) / 2**20 if device.type == "cuda" else rss.delta_mb
    return {"peak_mb": peak_mb, "step_s": statistics.median(times[1:] or times)}


def measure_zero_shot(
    args: argparse.Namespace, graph: str, triples: int | None, batch_size: int, repeats: int = 1
) -> dict[str, Any]:
    from lit_kgns.metrics import RankingMetrics, filtered_ranks
    from lit_kgns.scoring import score_targets

    device = torch.device(args.device)
    split = load_split(graph, args.data_root, "test").to(device)
    model = build_backbone(args.backbone, args.implementation, args.data_root).to(device).eval()
    warm(model, split.graph, split.targets)
    targets = split.targets if triples is None else split.targets[:triples]
    metric = RankingMetrics().to(device)
    passes = []
    with PeakRSS() as rss:
        for _ in range(repeats):
            metric.reset()
            start = time.perf_counter()
            for batch in targets.split(batch_size):
                queries = score_targets(model, split, batch)
                metric.update(*filtered_ranks(queries.scores, queries.answers, queries.known))
            if device.type == "cuda":
                torch.cuda.synchronize()
            passes.append(time.perf_counter() - start)
    seconds = statistics.median(passes)
    values = {key: round(value.item(), 4) for key, value in metric.compute().items()}
    graph_object = split.graph
    return {
        "seconds": seconds,
        "queries": 2 * len(targets),
        "all_queries": 2 * len(split.targets),
        "entities": graph_object.num_nodes,
        "edges": graph_object.num_edges,
        "peak_mb": rss.delta_mb,
        "process_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "mrr": values["mrr"],
        "hits@10": values["hits@10"],
    }


def child_arguments(kind: str, **options: object) -> list[str]:
    """``--child kind --option value ...`` for a child process of this script."""
    pairs = [(f"--{key.replace('_', '-')}", str(value)) for key, value in options.items()]
    return ["--child", kind, *[item for pair in pairs for item in pair]]


def run_child(arguments: list[str], timeout: float) -> dict[str, Any]:
    command = [sys.executable, __file__, *arguments]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    return json.loads(lines[-1])


# ----------------------------------------------------------------------------- the three sections
def step_section(args: argparse.Namespace, common: list[str]) -> None:
    print("| backbone | positives | implementation | peak MB | MB per positive | step s | peak ratio | time ratio |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for backbone in args.backbones:
        last: dict[str, tuple[int, float]] = {}  # implementation -> (positives, peak MB) of its last size
        for positives in args.positives:
            results: dict[str, dict[str, Any]] = {}
            for implementation in args.implementations:
                if implementation in last:
                    size, peak = last[implementation]
                    predicted_gb = peak / size * positives / 1024
                    if predicted_gb > args.memory_limit_gb:
                        results[implementation] = {"error": f"does not fit (about {predicted_gb:.0f} GB)"}
                        continue
                child = child_arguments(
                    "step",
                    backbone=backbone,
                    implementation=implementation,
                    positives=positives,
                    negatives=args.negatives,
                    steps=args.steps,
                )
                results[implementation] = result = run_child(common + child, args.timeout)
                if "peak_mb" in result:
                    last[implementation] = (positives, result["peak_mb"])
            reference = results.get("per_edge", {})
            for implementation, result in results.items():
                if "error" in result:
                    print(f"| {backbone} | {positives} | {implementation} | {result['error']} | | | | |", flush=True)
                    continue
                ratios = ""
                if implementation != "per_edge" and "peak_mb" in reference:
                    peak_ratio = result["peak_mb"] / reference["peak_mb"]
                    ratios = f"{peak_ratio:.3f} | {result['step_s'] / reference['step_s']:.2f}"
                print(
                    f"| {backbone} | {positives} | {implementation} | {result['peak_mb']:.0f} | "
                    f"{result['peak_mb'] / positives:.0f} | {result['step_s']:.2f} | {ratios or ' | '} |",
                    flush=True,
                )


def zero_shot_section(args: argparse.Namespace, common: list[str]) -> None:
    print(
        f"| backbone | implementation | zero-shot GraIL FB15k-237 v1 s (median of {args.repeats}) | MRR | Hits@10 "
        "| time ratio |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for backbone in args.backbones:
        results = {
            implementation: run_child(
                common
                + child_arguments("zero_shot", backbone=backbone, implementation=implementation, repeats=args.repeats),
                args.timeout,
            )
            for implementation in args.implementations
        }
        reference = results.get("per_edge", {})
        for implementation, result in results.items():
            if "error" in result:
                print(f"| {backbone} | {implementation} | {result['error']} | | | |", flush=True)
                continue
            ratio = ""
            if implementation != "per_edge" and "seconds" in reference:
                ratio = f"{result['seconds'] / reference['seconds']:.2f}"
            print(
                f"| {backbone} | {implementation} | {result['seconds']:.1f} | {result['mrr']:.4f} | "
                f"{result['hits@10']:.4f} | {ratio} |",
                flush=True,
            )


def large_section(args: argparse.Namespace, common: list[str]) -> None:
    print(f"ULTRA 3g zero-shot, default settings, first {args.large_triples} test triples of each graph")
    print(
        "| graph | entities | edges | queries timed | s per query | whole test set (estimate) | peak MB | "
        "process peak MB | MRR on the subset |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for graph in LARGE_GRAPHS:
        options = {"graph": graph, "backbone": "ultra", "implementation": "chunked"}
        child = child_arguments("large", **options, large_triples=args.large_triples)
        result = run_child(common + child, args.timeout)
        if "error" in result:
            print(f"| {graph} | {result['error']} | | | | | | | |", flush=True)
            continue
        per_query = result["seconds"] / result["queries"]
        whole = per_query * result["all_queries"]
        print(
            f"| {graph} | {result['entities']:,} | {result['edges']:,} | {result['queries']} | {per_query:.3f} | "
            f"{whole / 60:.0f} min ({result['all_queries']:,} queries) | {result['peak_mb']:.0f} | "
            f"{result['process_peak_mb']:.0f} | {result['mrr']:.4f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--backbones", nargs="+", choices=BACKBONES, default=list(BACKBONES))
    parser.add_argument("--implementations", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS))
    parser.add_argument("--positives", nargs="+", type=int, default=[1, 4, 16, 64])
    parser.add_argument("--negatives", type=int, default=256)
    parser.add_argument("--steps", type=int, default=3, help="training steps per size (the first gives the memory)")
    parser.add_argument("--repeats", type=int, default=3, help="zero-shot passes over GraIL FB v1 (median)")
    parser.add_argument("--large-triples", type=int, default=64, help="test triples timed per large graph")
    parser.add_argument("--sections", nargs="+", choices=("step", "zero_shot", "large"), default=["step", "zero_shot"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--memory-limit-gb", type=float, default=0.75 * psutil.virtual_memory().total / 2**30)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed to one child process")
    parser.add_argument("--child", choices=("step", "zero_shot", "large"), help=argparse.SUPPRESS)
    parser.add_argument("--backbone", choices=BACKBONES, help=argparse.SUPPRESS)
    parser.add_argument("--implementation", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--graph", choices=LARGE_GRAPHS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "step":
        (args.positives,) = args.positives  # a child measures one size
        print(json.dumps(measure_step(args)))
    elif args.child == "zero_shot":
        print(json.dumps(measure_zero_shot(args, "grail_fb237_v1", None, batch_size=32, repeats=args.repeats)))
    elif args.child == "large":
        print(json.dumps(measure_zero_shot(args, args.graph, args.large_triples, batch_size=16)))
    else:
        common = ["--data-root", str(args.data_root), "--device", args.device]
        print(
            f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"{args.negatives} negatives, memory limit {args.memory_limit_gb:.1f} GB\n"
        )
        sections = {"step": step_section, "zero_shot": zero_shot_section, "large": large_section}
        for name in args.sections:
            sections[name](args, common)
            print()


if __name__ == "__main__":
    main()
