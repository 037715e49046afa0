"""The model catalog: which quantized models EdgeChat offers to download, and where they live.

Qt-free (stdlib only). The catalog ships as ``resources/catalog.json`` (installed as the package
``desktop.resources``) and is read with :func:`load_catalog`.

Format (``schema_version`` 1)
=============================

Top level::

    {"schema_version": 1, "catalog_version": "2026.11.1", "models": [<model>, ...]}

``schema_version`` is the format of this file; a reader refuses any other value. ``catalog_version``
names the edition of the contents (a string, compared for equality only).

A *model* is one network, whatever its file format::

    id              str   stable slug, unique among models: [a-z0-9][a-z0-9._-]*
    family          str   e.g. "Qwen2.5"
    display_name    str   UI label without the quantization, e.g. "Phi-3 mini 4k Instruct"
    params          int   nominal parameter count (the size class): 135000000, 3800000000
    license         str   SPDX-like id: "apache-2.0", "mit", "gemma", "llama3.2", "qwen-research"...
    context_length  int | null   the model's maximum context in tokens (not a runtime n_ctx)
    chat_template   str | null   prompt-format family: "chatml", "llama-3", "phi-3", "phi-4-mini",
                                 "gemma", "mistral", "deepseek-r1" (GGUF files embed their own Jinja)
    description     str | null   one short neutral sentence (optional)
    reasoning       str | null   how the model thinks before answering (optional): "switch" (it
                                 thinks unless told not to: the chat's Think switch, or /think and
                                 /no_think in a message, as Qwen 3), "always" (every reply starts
                                 with its thinking, as the DeepSeek-R1 distills), null: it does not
    n_layers, n_kv_heads, head_dim
                    int | null   architecture facts for a KV-cache estimate; null when no source
                                 gives them (never guessed)
    variants        [<variant>, ...]   at least one

A *variant* is one downloadable build of the model: a GGUF file for llama.cpp, or an ONNX Runtime
GenAI folder (the folder holding ``genai_config.json``) built for one execution provider::

    id                  str   stable slug, unique across the whole catalog
    format              "gguf" | "onnx"
    repo_id             str   Hugging Face repository "owner/name"
    filename            str   gguf only: the file's path in the repo (ends in .gguf)
    subfolder           str   onnx only: the folder in the repo that holds genai_config.json
    execution_provider  onnx only: "cpu" | "dml" (DirectML) | "cuda"
    quant               str   "Q4_K_M", "Q4_0", "int4-rtn-block-32 (accuracy level 4)"...
    revision            str | null   40-hex Hub commit the size and hashes were read at; download
                                     from resolve/<revision>/ when set, else from main
    size_bytes          int | null   bytes to download (gguf: required; onnx: the folder total,
                                     equal to the sum of ``files`` when both are given)
    sha256              str   gguf only, required: 64 lowercase hex digits of the whole file
    files               onnx only: [{"path", "size", "sha256" | null}, ...] | null -- the complete
                        list of files in the subfolder at ``revision`` (paths relative to it; must
                        include genai_config.json); null = unknown, list the folder at download time
    gated               bool | null   whether this repository needs a Hub token; null = unknown
    evidence            "A" | "B" | "C" | null   how well the size and hashes are confirmed:
                        A = two independent sources incl. a measured download or pinned digest,
                        B = a single source, or a size without hashes, C = repo and path only,
                        null = not graded

Paths (filename, subfolder, files[].path) are POSIX and relative: no leading '/', no '\\', no ':'
(drive letters, NTFS streams), no empty, '.' or '..' segments, no control characters.

Loading rules: unknown keys are ignored. A malformed model or variant is skipped, logged and
recorded in ``Catalog.skipped`` as ``(key, reason)`` -- the key is the entry's id when it has a
usable one, else its index in ``models`` (an int) or ``"<model>#<index>"`` for a variant. A model
whose variants are all skipped is skipped too. A file that cannot be read or parsed, a top level
that is not an object, or a ``schema_version`` other than 1 raises :class:`CatalogError`.

API
===

``load_catalog(path=None) -> Catalog``; ``parse_catalog(data, source) -> Catalog``;
``Catalog.model(id) -> CatalogModel | None``,
``Catalog.variant(variant_id) -> (CatalogModel, Variant) | None``,
``Catalog.iter_variants(format=None, execution_provider=None)``;
``CatalogModel.variants_for(format=None, execution_provider=None)``, ``CatalogModel.gated``,
``CatalogModel.kv_cache_bytes(n_ctx)``; ``Variant.download_size``, ``Variant.repo_paths()``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files as resource_files
from pathlib import Path
from typing import Any

from desktop.engines.context import kv_cache_bytes
from desktop.errors import UserError
from desktop.models.names import is_repo_id, path_problem

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RESOURCE_PACKAGE = "desktop.resources"
RESOURCE_NAME = "catalog.json"

GGUF = "gguf"
ONNX = "onnx"
FORMATS = frozenset({GGUF, ONNX})
EXECUTION_PROVIDERS = frozenset({"cpu", "dml", "cuda"})
EVIDENCE_LEVELS = frozenset({"A", "B", "C"})

_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_REVISION_RE = re.compile(r"[0-9a-f]{40}")


class CatalogError(UserError):
    """The catalog as a whole cannot be used (unreadable, not JSON, unsupported schema)."""


class _Invalid(ValueError):
    """One entry is malformed; the loader skips it with this message as the reason."""


@dataclass(frozen=True)
class VariantFile:
    """One file of an ONNX folder, relative to the variant's subfolder."""

    path: str
    size: int
    sha256: str | None = None


@dataclass(frozen=True)
class Variant:
    """One downloadable build of a model: a GGUF file or an ONNX GenAI folder."""

    id: str
    format: str
    repo_id: str
    quant: str
    filename: str | None = None
    subfolder: str | None = None
    execution_provider: str | None = None
    revision: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    files: tuple[VariantFile, ...] | None = None
    gated: bool | None = None
    evidence: str | None = None

    @property
    def download_size(self) -> int | None:
        """Bytes to download: the sum of ``files`` when they are listed, else ``size_bytes``."""
        if self.files is not None:
            return sum(f.size for f in self.files)
        return self.size_bytes

    def repo_paths(self) -> tuple[str, ...] | None:
        """Paths inside the repository to download; None when the ONNX file list is unknown."""
        if self.format == GGUF:
            return (self.filename,) if self.filename else ()
        if self.files is None:
            return None
        return tuple(f"{self.subfolder}/{f.path}" for f in self.files)


REASONING = ("switch", "always")  # how a model thinks before answering


@dataclass(frozen=True)
class CatalogModel:
    """A model and its variants (GGUF file, ONNX folders per execution provider)."""

    id: str
    family: str
    display_name: str
    params: int
    license: str
    variants: tuple[Variant, ...]
    context_length: int | None = None
    chat_template: str | None = None
    description: str | None = None
    reasoning: str | None = None  # "switch" | "always" | None: see the module docstring
    n_layers: int | None = None
    n_kv_heads: int | None = None
    head_dim: int | None = None

    def variants_for(
        self, format: str | None = None, execution_provider: str | None = None
    ) -> tuple[Variant, ...]:
        """The variants of this model in ``format`` and/or built for ``execution_provider``.

        ``execution_provider`` matches ONNX variants only. Unknown names raise ValueError, so a
        typo ("directml") is not mistaken for "no such variant".
        """
        _check_filter(format, execution_provider)
        return tuple(
            v for v in self.variants
            if (format is None or v.format == format)
            and (execution_provider is None or v.execution_provider == execution_provider)
        )

    @property
    def formats(self) -> frozenset[str]:
        return frozenset(v.format for v in self.variants)

    @property
    def gated(self) -> bool | None:
        """True if any variant's repo is gated, False if all are open, else None (unknown)."""
        values = [v.gated for v in self.variants]
        if any(g is True for g in values):
            return True
        if all(g is False for g in values):
            return False
        return None

    def kv_cache_bytes(self, n_ctx: int, bytes_per_value: int = 2) -> int | None:
        """Keys plus values for ``n_ctx`` tokens (f16 by default); None when facts are missing."""
        if self.n_layers is None or self.n_kv_heads is None or self.head_dim is None:
            return None
        return kv_cache_bytes(self.n_layers, self.n_kv_heads, self.head_dim, n_ctx, bytes_per_value)


@dataclass(frozen=True)
class Catalog:
    """The loaded catalog: its models in file order, and the entries that were skipped."""

    schema_version: int
    catalog_version: str
    models: tuple[CatalogModel, ...]
    skipped: tuple[tuple[str | int, str], ...] = ()
    source: str = ""
    _models_by_id: Mapping[str, CatalogModel] = field(init=False, repr=False, compare=False)
    _variants_by_id: Mapping[str, tuple[CatalogModel, Variant]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_models_by_id", {m.id: m for m in self.models})
        object.__setattr__(
            self, "_variants_by_id", {v.id: (m, v) for m in self.models for v in m.variants}
        )

    def model(self, model_id: str) -> CatalogModel | None:
        """The model with this id, or None (a saved id may name a model a newer catalog dropped)."""
        return self._models_by_id.get(model_id)

    def variant(self, variant_id: str) -> tuple[CatalogModel, Variant] | None:
        """The variant with this id and the model it belongs to, or None."""
        return self._variants_by_id.get(variant_id)

    def iter_variants(
        self, format: str | None = None, execution_provider: str | None = None
    ) -> Iterator[tuple[CatalogModel, Variant]]:
        """Every (model, variant) pair, optionally filtered as in :meth:`CatalogModel.variants_for`."""
        _check_filter(format, execution_provider)
        for m in self.models:
            for v in m.variants_for(format, execution_provider):
                yield m, v

    def __len__(self) -> int:
        return len(self.models)

    def __iter__(self) -> Iterator[CatalogModel]:
        return iter(self.models)


# -- loading ---------------------------------------------------------------------------------


def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Read and validate a catalog file: the shipped one unless ``path`` is given."""
    source = f"{RESOURCE_PACKAGE}/{RESOURCE_NAME}" if path is None else str(path)
    try:
        if path is None:
            text = resource_files(RESOURCE_PACKAGE).joinpath(RESOURCE_NAME).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ModuleNotFoundError) as exc:
        raise CatalogError(f"Cannot read the model catalog {source}: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"The model catalog {source} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            f"{exc.msg}"
        ) from exc
    return parse_catalog(data, source)


def parse_catalog(data: Any, source: str = "<data>") -> Catalog:
    """Validate already-decoded catalog data. Raises CatalogError only for top-level problems."""
    if not isinstance(data, dict):
        raise CatalogError(f"The model catalog {source} is not a JSON object")
    version = data.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise CatalogError(
            f"The model catalog {source} has schema_version {version!r}; this EdgeChat reads "
            f"version {SCHEMA_VERSION} only (a newer catalog needs a newer EdgeChat)"
        )
    catalog_version = data.get("catalog_version")
    if not isinstance(catalog_version, str) or not catalog_version.strip():
        raise CatalogError(f"The model catalog {source} has no catalog_version string")
    entries = data.get("models")
    if not isinstance(entries, list):
        raise CatalogError(f"The model catalog {source} has no 'models' list")

    skipped: list[tuple[str | int, str]] = []

    def skip(key: str | int, reason: str) -> None:
        log.warning("Model catalog %s: skipped %s: %s", source, key, reason)
        skipped.append((key, reason))

    models: list[CatalogModel] = []
    model_ids: set[str] = set()
    variant_ids: set[str] = set()
    for index, entry in enumerate(entries):
        key: str | int = _entry_key(entry, index)
        try:
            model = _parse_model(entry, model_ids, variant_ids, skip)
        except _Invalid as exc:
            skip(key, str(exc))
            continue
        model_ids.add(model.id)
        variant_ids.update(v.id for v in model.variants)
        models.append(model)
    return Catalog(
        schema_version=version,
        catalog_version=catalog_version,
        models=tuple(models),
        skipped=tuple(skipped),
        source=source,
    )


def _entry_key(entry: Any, index: int) -> str | int:
    if isinstance(entry, dict):
        ident = entry.get("id")
        if isinstance(ident, str) and ident:
            return ident
    return index


def _parse_model(
    entry: Any,
    taken_model_ids: set[str],
    taken_variant_ids: set[str],
    skip: Callable[[str | int, str], None],
) -> CatalogModel:
    if not isinstance(entry, dict):
        raise _Invalid(f"a model entry must be an object, not {type(entry).__name__}")
    model_id = _slug(entry, "id")
    if model_id in taken_model_ids:
        raise _Invalid(f"duplicate model id {model_id!r}")
    family = _text(entry, "family")
    display_name = _text(entry, "display_name")
    params = _count(entry, "params", positive=True)
    license_ = _text(entry, "license")
    context_length = _count(entry, "context_length", positive=True, optional=True)
    chat_template = _text(entry, "chat_template", optional=True)
    description = _text(entry, "description", optional=True)
    reasoning = _text(entry, "reasoning", optional=True)
    if reasoning not in (None, *REASONING):
        raise _Invalid(f"reasoning must be one of {', '.join(REASONING)} or null, not {reasoning!r}")
    n_layers = _count(entry, "n_layers", positive=True, optional=True)
    n_kv_heads = _count(entry, "n_kv_heads", positive=True, optional=True)
    head_dim = _count(entry, "head_dim", positive=True, optional=True)
    raw_variants = entry.get("variants")
    if not isinstance(raw_variants, list) or not raw_variants:
        raise _Invalid("'variants' must be a non-empty list")

    variants: list[Variant] = []
    seen: set[str] = set()
    for vindex, raw in enumerate(raw_variants):
        vkey = _entry_key(raw, vindex)
        if isinstance(vkey, int):
            vkey = f"{model_id}#{vindex}"
        try:
            variant = _parse_variant(raw)
            if variant.id in seen or variant.id in taken_variant_ids:
                raise _Invalid(f"duplicate variant id {variant.id!r}")
        except _Invalid as exc:
            skip(vkey, str(exc))
            continue
        seen.add(variant.id)
        variants.append(variant)
    if not variants:
        raise _Invalid("none of its variants is valid")
    return CatalogModel(
        id=model_id,
        family=family,
        display_name=display_name,
        params=params,
        license=license_,
        variants=tuple(variants),
        context_length=context_length,
        chat_template=chat_template,
        description=description,
        reasoning=reasoning,
        n_layers=n_layers,
        n_kv_heads=n_kv_heads,
        head_dim=head_dim,
    )


def _parse_variant(raw: Any) -> Variant:
    if not isinstance(raw, dict):
        raise _Invalid(f"a variant entry must be an object, not {type(raw).__name__}")
    variant_id = _slug(raw, "id")
    fmt = raw.get("format")
    if fmt not in FORMATS:
        raise _Invalid(f"unknown format {fmt!r} (expected one of {sorted(FORMATS)})")
    repo_id = _repo_id(raw.get("repo_id"))
    quant = _text(raw, "quant")
    revision = raw.get("revision")
    if revision is not None and (not isinstance(revision, str) or not _REVISION_RE.fullmatch(revision)):
        raise _Invalid(f"revision must be a 40-digit lowercase hex commit or null, not {revision!r}")
    gated = raw.get("gated")
    if gated is not None and not isinstance(gated, bool):
        raise _Invalid(f"gated must be true, false or null, not {gated!r}")
    evidence = raw.get("evidence")
    if evidence is not None and evidence not in EVIDENCE_LEVELS:
        raise _Invalid(f"evidence must be one of {sorted(EVIDENCE_LEVELS)} or null, not {evidence!r}")

    if fmt == GGUF:
        for other in ("subfolder", "execution_provider", "files"):
            if raw.get(other) is not None:
                raise _Invalid(f"a gguf variant has no {other}")
        filename = raw.get("filename")
        if filename is None:
            raise _Invalid("a gguf variant needs a filename")
        filename = _relative_path(filename, "filename")
        if not filename.lower().endswith(".gguf"):
            raise _Invalid(f"filename {filename!r} is not a .gguf file")
        size_bytes = _count(raw, "size_bytes", positive=True)
        sha256 = _sha256(raw.get("sha256"), "sha256")
        if sha256 is None:
            raise _Invalid("a gguf variant needs a sha256")
        return Variant(
            id=variant_id, format=fmt, repo_id=repo_id, quant=quant, filename=filename,
            revision=revision, size_bytes=size_bytes, sha256=sha256, gated=gated, evidence=evidence,
        )

    for other in ("filename", "sha256"):
        if raw.get(other) is not None:
            raise _Invalid(f"an onnx variant has no {other} (per-file hashes go in 'files')")
    subfolder = raw.get("subfolder")
    if subfolder is None:
        raise _Invalid("an onnx variant needs a subfolder (the folder holding genai_config.json)")
    subfolder = _relative_path(subfolder, "subfolder")
    provider = raw.get("execution_provider")
    if provider not in EXECUTION_PROVIDERS:
        raise _Invalid(
            f"execution_provider must be one of {sorted(EXECUTION_PROVIDERS)}, not {provider!r}"
        )
    size_bytes = _count(raw, "size_bytes", positive=True, optional=True)
    files = _files(raw.get("files"))
    if files is not None and size_bytes is not None and size_bytes != sum(f.size for f in files):
        raise _Invalid(
            f"size_bytes {size_bytes} differs from the sum of its files ({sum(f.size for f in files)})"
        )
    return Variant(
        id=variant_id, format=fmt, repo_id=repo_id, quant=quant, subfolder=subfolder,
        execution_provider=provider, revision=revision, size_bytes=size_bytes, files=files,
        gated=gated, evidence=evidence,
    )


def _files(raw: Any) -> tuple[VariantFile, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise _Invalid("files must be a non-empty list or null")
    result: list[VariantFile] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _Invalid(f"files[{i}] must be an object")
        path = _relative_path(item.get("path"), f"files[{i}].path")
        if path in seen:
            raise _Invalid(f"files lists {path!r} twice")
        seen.add(path)
        size = _count(item, "size", what=f"files[{i}].size")
        sha256 = _sha256(item.get("sha256"), f"files[{i}].sha256")
        result.append(VariantFile(path=path, size=size, sha256=sha256))
    if "genai_config.json" not in seen:
        raise _Invalid("files does not include genai_config.json")
    return tuple(result)


# -- field checks ------------------------------------------------------------------------------


def _check_filter(format: str | None, execution_provider: str | None) -> None:
    if format is not None and format not in FORMATS:
        raise ValueError(f"unknown format {format!r} (expected one of {sorted(FORMATS)})")
    if execution_provider is not None and execution_provider not in EXECUTION_PROVIDERS:
        raise ValueError(
            f"unknown execution provider {execution_provider!r} "
            f"(expected one of {sorted(EXECUTION_PROVIDERS)})"
        )


def _text(entry: dict, name: str, optional: bool = False) -> str | None:
    value = entry.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"{name} must be a non-empty string, not {value!r}")
    return value


def _slug(entry: dict, name: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise _Invalid(f"{name} must be a lowercase slug ([a-z0-9][a-z0-9._-]*), not {value!r}")
    return value


def _count(
    entry: dict, name: str, *, positive: bool = False, optional: bool = False, what: str | None = None
) -> int | None:
    what = what or name
    value = entry.get(name)
    if value is None and optional:
        return None
    # bool is an int subclass, and JSON floats (1e9, NaN) are not byte counts.
    if type(value) is not int:
        raise _Invalid(f"{what} must be an integer, not {value!r}")
    if value < 0 or (positive and value == 0):
        raise _Invalid(f"{what} must be {'positive' if positive else 'non-negative'}, not {value}")
    return value


def _sha256(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256_RE.fullmatch(value):
        raise _Invalid(f"{what} must be 64 lowercase hex digits, not {value!r}")
    return value


def _repo_id(value: Any) -> str:
    if not is_repo_id(value):
        raise _Invalid(f"repo_id must look like 'owner/name', not {value!r}")
    return value


def _relative_path(value: Any, what: str) -> str:
    """A POSIX path relative to the repository (or subfolder) that cannot escape it."""
    problem = path_problem(value)
    if problem:
        raise _Invalid(f"{what} {value!r} {problem}")
    return value


__all__ = [
    "EXECUTION_PROVIDERS",
    "FORMATS",
    "GGUF",
    "ONNX",
    "SCHEMA_VERSION",
    "Catalog",
    "CatalogError",
    "CatalogModel",
    "Variant",
    "VariantFile",
    "load_catalog",
    "parse_catalog",
]
