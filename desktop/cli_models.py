"""``edgechat models ...`` and ``edgechat hardware``: the library from a terminal.

Same core as the Library view (catalog, hub, downloads, library); downloads run in this thread
and print their progress, Ctrl+C pauses them (what arrived is kept; the same command resumes).
"""

from __future__ import annotations

import json
import signal
import sys

from desktop import config
from desktop.errors import fail
from desktop.units import format_bytes


def add_parsers(sub) -> None:
    models = sub.add_parser("models", help="list, download, import and remove models")
    msub = models.add_subparsers(dest="models_command", required=True)
    lst = msub.add_parser("list", help="installed models, then the catalog with fit for this machine")
    lst.add_argument("--json", action="store_true")
    dl = msub.add_parser("download", help="download a catalog model, or any GGUF / ONNX from a repo")
    dl.add_argument("catalog_id", nargs="?", help="a catalog model id (see 'models list')")
    dl.add_argument("--variant", help="which variant of the catalog model (default: the best fit)")
    dl.add_argument("--repo", help="a Hugging Face repository id (owner/name)")
    dl.add_argument("--file", help="the GGUF file in --repo")
    dl.add_argument("--subfolder", help="the ONNX GenAI folder in --repo ('.' for the top)")
    dl.add_argument("--revision", help="a branch, tag or commit (default: main)")
    imp = msub.add_parser("import", help="list a local GGUF file or ONNX folder (not copied)")
    imp.add_argument("path")
    rm = msub.add_parser("remove", help="remove a model (files are deleted only if EdgeChat "
                         "downloaded them)")
    rm.add_argument("model_id")
    msub.add_parser("discover", help="find models other apps already downloaded")
    rec = msub.add_parser("recommend", help="the catalog model recommended for this computer, with "
                          "its speed here (what the window's welcome and library show)")
    rec.add_argument("--json", action="store_true")
    hw = sub.add_parser("hardware", help="what this machine has, and what each engine can use")
    hw.add_argument("--json", action="store_true")


def run(args) -> int:
    from desktop.engines.base import EngineError
    from desktop.models.downloads import DownloadError
    from desktop.models.hub import HubError
    from desktop.models.library import LibraryError

    try:
        if args.command == "hardware":
            return hardware(args)
        handler = {"list": list_models, "download": download, "import": import_model,
                   "remove": remove, "discover": discover,
                   "recommend": recommend_model}[args.models_command]
        return handler(args)
    except (DownloadError, HubError, LibraryError, EngineError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"{exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "))


def hardware(args) -> int:
    from desktop.hardware import detect
    from desktop.models.library import models_dir

    profile = detect(models_dir())
    if args.json:
        print(json.dumps(profile.to_dict()))
    else:
        print("\n".join(profile.summary_lines()))
    return 0


def _catalog_rows():
    from desktop.hardware import detect
    from desktop.models.catalog import load_catalog
    from desktop.models.fit_catalog import assess_variant
    from desktop.models.library import models_dir

    catalog = load_catalog()
    profile = detect(models_dir())
    rows = []
    for model in catalog.models:
        for variant in model.variants:
            fit = assess_variant(model, variant, profile)
            rows.append((model, variant, fit))
    return catalog, profile, rows


def list_models(args) -> int:
    from desktop.models.downloads import pending
    from desktop.models.library import Library

    library = Library()
    installed = library.models()
    waiting = pending(library)
    catalog, profile, rows = _catalog_rows()
    if args.json:
        print(json.dumps({
            "installed": [m.to_dict() for m in installed],
            "paused_downloads": [{"id": p.id, "name": p.name, "total": p.total} for p in waiting],
            "catalog": [{
                "model": m.id, "variant": v.id, "name": m.display_name, "format": v.format,
                "execution_provider": v.execution_provider, "quant": v.quant,
                "size": v.download_size, "params": m.params, "fit": f.verdict,
                "fit_detail": f.explain(),
            } for m, v, f in rows],
            "skipped_catalog_entries": [list(s) for s in catalog.skipped],
        }))
        return 0
    print("Installed:")
    for m in installed:
        print(f"  {m.id:<44} {m.format:<5} {format_bytes(m.size or None):>9}  {m.path}")
    if not installed:
        print("  (none: the embedded default model is always available)")
    if waiting:
        print("Paused downloads (run 'edgechat models download' again to resume):")
        for p in waiting:
            print(f"  {p.id}  {p.name}  {format_bytes(p.total or None)}")
    print("Catalog (fit for this machine):")
    from desktop.models.fit_catalog import verdict_text

    for _model, v, f in rows:
        where = v.execution_provider or "gguf"
        print(f"  {v.id:<56} {where:<5} {format_bytes(v.download_size or None):>9}  "
              f"{verdict_text(v, f, profile)}")
    return 0


def recommend_model(args) -> int:
    """The window's recommendation, from the same function (recommend.recommend) with the same
    settled calibration, so the terminal and the window never name different models."""
    from desktop.models.recommend import recommend

    pick = recommend()
    if args.json:
        print(json.dumps(None if pick is None else {
            "model": pick.model_id, "variant": pick.variant_id, "name": pick.name,
            "quant": pick.quantization, "format": pick.format,
            "execution_provider": pick.execution_provider, "size": pick.file_bytes,
            "size_text": pick.size_text, "tokens_per_s": round(pick.tokens_per_s, 2),
            "speed_text": pick.speed_text, "label": pick.label, "device": pick.device,
            "how": getattr(pick.estimate, "note", ""), "repo_id": pick.repo_id,
        }, ensure_ascii=False))
        return 0
    if pick is None:
        print("No catalog model both fits this computer with room to spare and writes at a usable "
              "speed here (5 tokens/s or more).")
        return 0
    print(f"Recommended for this computer: {pick.summary}")
    note = getattr(pick.estimate, "note", "")
    if note:
        print(f"  Speed: {note}.")
    print(f"  Get it: edgechat models download {pick.model_id} --variant {pick.variant_id}")
    return 0


def _progress_printer():
    tty = sys.stdout.isatty()
    state = {"last": -1}

    def show(p) -> None:
        pct = int(100 * p.done / p.total) if p.total else 100
        if p.phase == "downloading":
            eta = f"{p.eta_s / 60:.0f} min left" if p.eta_s and p.eta_s > 90 else (
                f"{p.eta_s:.0f} s left" if p.eta_s else "")
            line = (f"{pct:3d}%  {format_bytes(p.done or None)} / {format_bytes(p.total or None)}  "
                    f"{p.speed / 1e6:.1f} MB/s  "
                    f"{eta}  {p.file}")
            if tty:
                sys.stdout.write("\r" + line[:100].ljust(100))
                sys.stdout.flush()
            elif pct // 10 != state["last"] // 10:
                print(line, flush=True)
            state["last"] = pct
        elif p.message:
            if tty:
                sys.stdout.write("\r" + " " * 100 + "\r")
            print(p.message, flush=True)

    return show


def download(args) -> int:
    from desktop.models.downloads import (
        DownloadControl,
        Downloader,
        DownloadStalled,
        DownloadStopped,
        VerificationError,
        plan_download,
    )
    from desktop.models.library import Library

    library = Library()
    endpoint = config.hub_endpoint()
    if args.catalog_id and (args.repo or args.file or args.subfolder):
        return fail("give either a catalog id or --repo with --file/--subfolder", 2)
    if args.catalog_id:
        plan = _plan_catalog(args, endpoint)
    elif args.repo and (args.file or args.subfolder):
        plan = plan_download(args.repo, filename=args.file, subfolder=args.subfolder,
                             revision=args.revision, endpoint=endpoint)
    else:
        return fail("name a catalog model, or --repo with --file (GGUF) or --subfolder (ONNX)", 2)
    existing = library.get(plan.id)
    if existing is not None:
        print(f"Already installed: {existing.id} at {existing.path}")
        return 0
    for note in plan.notes:
        print(f"Note: {note}")
    control = DownloadControl()
    downloader = Downloader(plan, library, on_progress=_progress_printer(), endpoint=endpoint,
                            control=control)
    print(f"Downloading {plan.name} ({format_bytes(plan.total or None)}, {len(plan.files)} file(s)) from "
          f"{plan.repo_id}@{plan.revision[:10]}")
    # The transfer runs on a helper thread and this one waits in short steps, so Ctrl+C is
    # handled at once even while the server sends nothing.
    previous = signal.signal(signal.SIGINT, lambda *_: control.pause())
    try:
        model = downloader.run()
    except DownloadStalled as exc:
        print()
        print(f"{exc} Run the same command to resume.")
        return 75  # EX_TEMPFAIL: try again later
    except DownloadStopped:
        print("\nPaused. What arrived is kept: run the same command to resume.")
        return 130
    except VerificationError as exc:
        print()
        return fail(str(exc))
    finally:
        signal.signal(signal.SIGINT, previous)
    print(f"\nInstalled and verified: {model.id}\n  {model.path}")
    return 0


def _plan_catalog(args, endpoint):
    from desktop.hardware import detect
    from desktop.models.catalog import load_catalog
    from desktop.models.downloads import DownloadError, plan_download
    from desktop.models.fit_catalog import best_variant, download_spec
    from desktop.models.library import models_dir

    catalog = load_catalog()
    model = catalog.model(args.catalog_id)
    variant = None
    if model is None:
        found = catalog.variant(args.catalog_id)
        if found is None:
            raise DownloadError(f"{args.catalog_id!r} is not in the catalog: see 'edgechat models list'.")
        model, variant = found
    if args.variant:
        variant = next((v for v in model.variants if args.variant in (v.id, v.quant,
                                                                        v.execution_provider)), None)
        if variant is None:
            raise DownloadError(f"{model.id} has no variant {args.variant!r}; it has: "
                                f"{', '.join(v.id for v in model.variants)}.")
    if variant is None:
        variant = best_variant(model, detect(models_dir()))
        if variant is None:
            raise DownloadError(f"No variant of {model.display_name} fits this machine.")
    spec = download_spec(model, variant)
    if args.revision:
        spec["revision"] = args.revision
    return plan_download(endpoint=endpoint, **spec)


def import_model(args) -> int:
    from desktop.models.library import Library

    model = Library().import_path(args.path)
    print(f"Imported {model.id}: {model.format} at {model.path} (not copied)")
    return 0


def remove(args) -> int:
    from desktop.models.library import Library

    library = Library()
    model = library.remove(args.model_id)
    what = "deleted its files" if model.source == "download" else "left its files where they are"
    print(f"Removed {model.id} ({what}).")
    return 0


def discover(args) -> int:
    from desktop.models.library import Library

    found = Library().discover()
    for fmt, path in found:
        print(f"{fmt:<5} {path}")
    if not found:
        print("No models from other apps were found.")
    else:
        print("Add one with: edgechat models import PATH")
    return 0
