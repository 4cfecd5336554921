"""The arms of the KMAS comparisons (CLI overrides of a KMAS config), the ablations that pair them, and the
options that keep each run's training curves. Shared by ``kmas_leak_free.py`` and ``kmas_pretraining.py``.

Every arm sets the options it compares, so that a new default in ``configs/kmas/`` never changes what a
stored row of the CSVs measured.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from common import paired_table

_KMAS = "--sampler.init_args."
_WIDER_SIMILARITY = [f"{_KMAS}temperature=1.0", f"{_KMAS}top_k=64"]
STRICT_UNIFORM = "--sampler=lit_kgns.samplers.StrictUniformSampler"
#: Curves: every 10 steps the loss, the hard ratio and the diagnostics of the negatives (logged by KMAS
#: itself, by a diagnostics callback beside strict uniform).
CURVE_EVERY_N_STEPS = 10


def kmas_variants(narrow_top_k: int, schedule: list[str] | None = None) -> dict[str, list[str]]:
    """The KMAS arms of the first comparisons, each changing one thing of ``kmas``: the narrow similarity
    (τ 0.1, ``narrow_top_k`` relations) without the log-q correction. ``schedule``: overrides every arm
    takes (the schedule the stored rows ran with, where a config's default has changed since)."""
    narrow = [f"{_KMAS}temperature=0.1", f"{_KMAS}top_k={narrow_top_k}", *(schedule or [])]
    no_log_q, log_q = [f"{_KMAS}log_q_correction=0.0"], [f"{_KMAS}log_q_correction=1.0"]
    plain = [*narrow, *no_log_q]
    wide = [*_WIDER_SIMILARITY, *(schedule or []), *no_log_q]
    return {
        "kmas": plain,
        "kmas_guard": [*plain, f"{_KMAS}semi_hard_margin=0.0"],
        "kmas_unique": [*plain, f"{_KMAS}unique_hard=true", f"{_KMAS}max_retries=8"],
        "kmas_wide": wide,
        "kmas_wide_noself": [*wide, f"{_KMAS}include_self=false"],
        "kmas_wide_relation": [*wide, f"{_KMAS}weighting=relation"],
        "kmas_half_weight": [*plain, f"{_KMAS}hard_weight=0.5"],
        "kmas_logq": [*narrow, *log_q],
        # the fix against counting hardness twice with the guard against false negatives
        "kmas_logq_guard": [*narrow, *log_q, f"{_KMAS}semi_hard_margin=0.0"],
        # the two changes that each brought KMAS back to uniform in the screening, together
        "kmas_wide_logq": [*_WIDER_SIMILARITY, *(schedule or []), *log_q],
        "kmas_low_ratio": [*plain, f"{_KMAS}schedule.peak_ratio=0.2", f"{_KMAS}schedule.end_ratio=0.05"],
    }


def ablation_arms(num_negatives: int, top_k: int = 16) -> dict[str, list[str]]:
    """The arms of the ablations: ``kmas_paper`` is the method as published (the configs' default, every
    option spelled out), each other arm changes one mechanism, in the KMAS arm and its strict uniform pair."""
    paper = [
        f"{_KMAS}similarity_source=backbone",
        f"{_KMAS}temperature=0.1",
        f"{_KMAS}top_k={top_k}",
        f"{_KMAS}log_q_correction=0.0",
        f"{_KMAS}hard_weight=1.0",
        f"{_KMAS}schedule.shape=linear",
        f"{_KMAS}schedule.warmup_end=0.1",
        f"{_KMAS}schedule.peak_at=0.5",
        f"{_KMAS}schedule.peak_ratio=0.5",
        f"{_KMAS}schedule.end_ratio=0.1",
    ]
    uniform = [STRICT_UNIFORM, f"{_KMAS}num_negatives={num_negatives}"]
    plain_mean = ["--model.loss=lit_kgns.losses.SelfAdversarialBCE", "--model.loss.init_args.temperature=0.0"]
    oracle = [f"{_KMAS}oracle_filter=true"]
    arms = {"kmas_paper": paper}
    arms["strict_uniform_t0"], arms["kmas_paper_t0"] = [*uniform, *plain_mean], [*paper, *plain_mean]
    arms["strict_uniform_oracle"], arms["kmas_paper_oracle"] = [*uniform, *oracle], [*paper, *oracle]
    for k in (16, 64):
        if k < num_negatives:
            count = [f"{_KMAS}num_negatives={k}"]
            arms[f"strict_uniform_k{k}"], arms[f"kmas_paper_k{k}"] = [*uniform, *count], [*paper, *count]
    arms["kmas_jaccard"] = [*paper, f"{_KMAS}similarity_source=jaccard"]
    arms["kmas_typed"] = [*paper, f"{_KMAS}similarity_source=typed"]
    return arms


def ablations(num_negatives: int) -> dict[str, list[tuple[str, str, str]]]:
    """Per mechanism, its levels as ``(level, strict uniform arm, KMAS arm)``: each level's KMAS arm is
    paired with the strict uniform arm that shares everything but the sampler."""
    counts = [(f"K = {k}", f"strict_uniform_k{k}", f"kmas_paper_k{k}") for k in (16, 64) if k < num_negatives]
    return {
        "loss weighting": [
            ("self-adversarial, T = 1", "strict_uniform", "kmas_paper"),
            ("plain mean, T = 0", "strict_uniform_t0", "kmas_paper_t0"),
        ],
        "oracle false-negative filter": [
            ("no filter", "strict_uniform", "kmas_paper"),
            ("held-out facts removed from both arms", "strict_uniform_oracle", "kmas_paper_oracle"),
        ],
        "negatives per positive": [*counts, (f"K = {num_negatives}", "strict_uniform", "kmas_paper")],
        "similarity source": [
            ("backbone relation representations", "strict_uniform", "kmas_paper"),
            ("Jaccard of head and tail sets", "strict_uniform", "kmas_jaccard"),
            ("query relation alone (typed)", "strict_uniform", "kmas_typed"),
        ],
    }


def arms_of(mechanisms: dict[str, list[tuple[str, str, str]]], names: list[str]) -> list[str]:
    """The arms the named mechanisms (``all``: every one) need, each once, in order."""
    chosen = list(mechanisms) if "all" in names else names
    arms = [arm for name in chosen for _, uniform, kmas in mechanisms[name] for arm in (uniform, kmas)]
    return list(dict.fromkeys(arms))


def ablation_report(
    rows: list[dict[str, str]], mechanisms: dict[str, list[tuple[str, str, str]]], title: str, command: str
) -> str:
    """Markdown: per mechanism and level, the paired difference KMAS − strict uniform per graph and on the
    mean over graphs (seeds that finished both arms), or which runs are still missing."""
    lines = [f"# {title}", "", "Written from `results.csv` by", "", "```bash", command, "```", ""]
    for mechanism, levels in mechanisms.items():
        lines += [f"## {mechanism.capitalize()}", ""]
        for level, uniform, kmas in levels:
            pair = [row for row in rows if row["arm"] in (uniform, kmas)]
            lines += [f"### {level}: `{kmas}` against `{uniform}`", ""]
            if {row["arm"] for row in pair} != {uniform, kmas}:
                lines += ["Not run yet.", ""]
                continue
            lines += [paired_table(pair, baseline=uniform), ""]
    return "\n".join(lines)


def curve_options(save_dir: Path, name: str, seed: int, arm_options: list[str]) -> list[str]:
    """Overrides that keep the run's curves as ``save_dir/name/seed<seed>/metrics.csv``: a CSV logger,
    training metrics every ``CURVE_EVERY_N_STEPS`` steps, and the negatives' diagnostics as often (a
    diagnostics callback for strict uniform, which has none of its own). A folder left there by an
    interrupted run of the same name and seed is removed first: the run starts its curves anew."""
    shutil.rmtree(save_dir / name / f"seed{seed}", ignore_errors=True)
    options = [
        "--trainer.logger=pytorch_lightning.loggers.CSVLogger",
        f"--trainer.logger.init_args.save_dir={save_dir}",
        f"--trainer.logger.init_args.name={name}",
        f"--trainer.logger.init_args.version=seed{seed}",
        f"--trainer.log_every_n_steps={CURVE_EVERY_N_STEPS}",
    ]
    if STRICT_UNIFORM in arm_options:
        options += [
            "--trainer.callbacks+=lit_kgns.samplers.kmas_diagnostics.KMASDiagnostics",
            f"--trainer.callbacks.init_args.every_n_steps={CURVE_EVERY_N_STEPS}",
        ]
    else:
        options.append(f"{_KMAS}diagnostics_every_n_steps={CURVE_EVERY_N_STEPS}")
    return options


def shown_path(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it (as a command in a results page shows it)."""
    repo = Path(__file__).resolve().parents[1]
    resolved = path.resolve()
    return str(resolved.relative_to(repo)) if resolved.is_relative_to(repo) else str(path)
