"""The model catalog: the shipped resources/catalog.json, and what the loader does with bad input.

No Qt here: desktop.models.catalog is part of the Qt-free core.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import subprocess
import sys
from importlib.resources import files

import pytest

from desktop.models.catalog import (
    EXECUTION_PROVIDERS,
    Catalog,
    CatalogError,
    load_catalog,
    parse_catalog,
)

SHA256 = re.compile(r"[0-9a-f]{64}")
HASH_A = "a" * 64
HASH_B = "b" * 64
HASH_C = "c" * 64

# -- the shipped catalog -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def shipped_raw() -> dict:
    return json.loads(files("desktop.resources").joinpath("catalog.json").read_text(encoding="utf-8"))


def test_shipped_catalog_loads_without_skipping_anything(shipped, shipped_raw):
    assert shipped.skipped == ()
    assert shipped.schema_version == 1
    assert shipped.catalog_version == shipped_raw["catalog_version"]
    # Every entry in the file survived validation.
    assert len(shipped.models) == len(shipped_raw["models"])
    raw_variants = sum(len(m["variants"]) for m in shipped_raw["models"])
    assert sum(len(m.variants) for m in shipped.models) == raw_variants


def test_shipped_catalog_spans_small_to_large_models(shipped):
    assert len(shipped.models) >= 15
    params = [m.params for m in shipped.models]
    assert min(params) <= 200_000_000
    assert max(params) >= 7_000_000_000


def test_shipped_catalog_has_both_formats_and_every_execution_provider(shipped):
    assert {v.format for _, v in shipped.iter_variants()} == {"gguf", "onnx"}
    providers = {v.execution_provider for _, v in shipped.iter_variants(format="onnx")}
    assert providers == {"cpu", "dml", "cuda"} == set(EXECUTION_PROVIDERS)
    for provider in EXECUTION_PROVIDERS:
        assert list(shipped.iter_variants(execution_provider=provider)), provider
    # At least one model offers both engines, so a fallback between them is possible.
    assert any(m.formats == {"gguf", "onnx"} for m in shipped.models)


def test_every_shipped_gguf_variant_can_be_verified(shipped):
    ggufs = [v for _, v in shipped.iter_variants(format="gguf")]
    assert len(ggufs) >= 15
    for v in ggufs:
        assert v.sha256 is not None and SHA256.fullmatch(v.sha256), v.id
        assert isinstance(v.size_bytes, int) and v.size_bytes > 0, v.id
        assert v.download_size == v.size_bytes
        assert v.filename.lower().endswith(".gguf"), v.id
        assert v.subfolder is None and v.execution_provider is None and v.files is None
        assert v.repo_paths() == (v.filename,)


def test_shipped_onnx_variants_name_a_folder_and_a_provider(shipped):
    for _, v in shipped.iter_variants(format="onnx"):
        assert v.subfolder and not v.subfolder.startswith("/"), v.id
        assert v.execution_provider in EXECUTION_PROVIDERS
        assert v.sha256 is None and v.filename is None
        if v.files is not None:
            names = {f.path for f in v.files}
            assert "genai_config.json" in names
            assert v.revision is not None, "per-file hashes are only stable at a pinned revision"
            assert v.download_size == sum(f.size for f in v.files) == v.size_bytes
            assert all(p.startswith(v.subfolder + "/") for p in v.repo_paths())


def test_shipped_ids_are_unique(shipped_raw):
    model_ids = [m["id"] for m in shipped_raw["models"]]
    variant_ids = [v["id"] for m in shipped_raw["models"] for v in m["variants"]]
    assert len(model_ids) == len(set(model_ids))
    assert len(variant_ids) == len(set(variant_ids))


def test_shipped_gguf_hashes_are_keyed_by_repo_and_file(shipped):
    # The same file name in two repositories has different bytes: never two variants for one
    # (repo, file) pair, and never one hash for two different files.
    keys = [(v.repo_id, v.filename or v.subfolder) for _, v in shipped.iter_variants()]
    assert len(keys) == len(set(keys))
    hashes = [v.sha256 for _, v in shipped.iter_variants(format="gguf")]
    assert len(hashes) == len(set(hashes))


def test_lookups_find_models_and_variants(shipped):
    phi3 = shipped.model("phi-3-mini-4k-instruct")
    assert phi3.display_name == "Phi-3 mini 4k Instruct"
    assert phi3.params == 3_800_000_000
    assert {v.format for v in phi3.variants} == {"gguf", "onnx"}
    assert [v.execution_provider for v in phi3.variants_for(format="onnx")] == ["cpu", "dml", "cuda"]
    (dml,) = phi3.variants_for(execution_provider="dml")
    assert shipped.variant(dml.id) == (phi3, dml)
    assert phi3.variants_for(format="gguf", execution_provider="cuda") == ()
    assert shipped.model("no-such-model") is None
    assert shipped.variant("no-such-variant") is None
    assert shipped.variant(phi3.id) is None, "model and variant ids are separate namespaces"
    with pytest.raises(ValueError, match="execution provider"):
        phi3.variants_for(execution_provider="directml")
    with pytest.raises(ValueError, match="format"):
        list(shipped.iter_variants(format="safetensors"))


def test_shipped_facts_that_matter_downstream(shipped):
    # The smallest model's architecture, as read from its GGUF header: 30 layers, 3 KV heads, 64.
    smol = shipped.model("smollm2-135m-instruct")
    assert (smol.n_layers, smol.n_kv_heads, smol.head_dim) == (30, 3, 64)
    assert smol.kv_cache_bytes(8192) == 2 * 30 * 3 * 64 * 8192 * 2
    # Unknown architecture facts stay unknown rather than guessed.
    assert shipped.model("qwen3-8b").kv_cache_bytes(4096) is None
    # Qwen2.5 3B is not Apache-2.0: the UI must be able to say so.
    assert shipped.model("qwen2.5-3b-instruct").license == "qwen-research"
    # No source says any repository here is gated; unknown must stay None, not False.
    assert shipped.model("gemma-2-2b-it").gated is None
    assert shipped.model("smollm2-135m-instruct").gated is False


def test_catalog_module_is_stdlib_only():
    code = (
        "import sys; before = set(sys.modules); import desktop.models.catalog; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "bad = sorted(m for m in new if m not in sys.stdlib_module_names and m != 'desktop'); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# -- malformed catalogs ------------------------------------------------------------------------


def gguf_variant(vid: str = "good-gguf") -> dict:
    return {
        "id": vid, "format": "gguf", "repo_id": "owner/Model-GGUF", "filename": "model-Q4_K_M.gguf",
        "quant": "Q4_K_M", "revision": "0" * 40, "size_bytes": 1000, "sha256": HASH_A,
        "gated": False, "evidence": "A",
    }


def onnx_variant(vid: str = "good-onnx") -> dict:
    return {
        "id": vid, "format": "onnx", "repo_id": "owner/Model-onnx", "subfolder": "cpu_and_mobile/cpu-int4",
        "execution_provider": "cpu", "quant": "int4-rtn-block-32", "revision": None, "size_bytes": 1300,
        "files": [
            {"path": "genai_config.json", "size": 100, "sha256": None},
            {"path": "model.onnx", "size": 200, "sha256": HASH_B},
            {"path": "model.onnx.data", "size": 1000, "sha256": HASH_C},
        ],
        "gated": None, "evidence": "B",
    }


def model(mid: str = "good-model", variants: list | None = None) -> dict:
    return {
        "id": mid, "family": "Test", "display_name": "Test Model", "params": 135_000_000,
        "license": "apache-2.0", "context_length": 8192, "chat_template": "chatml",
        "description": "A test model.", "n_layers": 30, "n_kv_heads": 3, "head_dim": 64,
        "variants": variants if variants is not None else [gguf_variant(), onnx_variant()],
    }


def write_catalog(tmp_path, models: list, **top) -> str:
    data = {"schema_version": 1, "catalog_version": "test.1", "models": models, **top}
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_well_formed_catalog_loads_completely(tmp_path):
    cat = load_catalog(write_catalog(tmp_path, [model()]))
    assert cat.skipped == ()
    m = cat.model("good-model")
    assert [v.id for v in m.variants] == ["good-gguf", "good-onnx"]
    gguf, onnx = m.variants
    assert gguf.download_size == 1000
    assert onnx.download_size == 1300
    assert onnx.repo_paths() == (
        "cpu_and_mobile/cpu-int4/genai_config.json",
        "cpu_and_mobile/cpu-int4/model.onnx",
        "cpu_and_mobile/cpu-int4/model.onnx.data",
    )
    assert [f.sha256 for f in onnx.files] == [None, HASH_B, HASH_C]


def test_onnx_without_a_file_list_uses_its_folder_size(tmp_path):
    v = onnx_variant()
    v["files"] = None
    cat = load_catalog(write_catalog(tmp_path, [model(variants=[v])]))
    (variant,) = cat.model("good-model").variants
    assert variant.files is None
    assert variant.download_size == 1300
    assert variant.repo_paths() is None
    v["size_bytes"] = None
    cat = load_catalog(write_catalog(tmp_path, [model(variants=[v])]))
    assert cat.model("good-model").variants[0].download_size is None


def _set(key, value):
    def mutate(entry):
        entry[key] = value
    return mutate


def _drop(key):
    def mutate(entry):
        del entry[key]
    return mutate


def _set_file(index, key, value):
    def mutate(entry):
        entry["files"][index][key] = value
    return mutate


BAD_VARIANTS = [
    # (label, which good variant to start from, mutation, words expected in the reason)
    ("missing repo_id", gguf_variant, _drop("repo_id"), "repo_id"),
    ("repo_id without owner", gguf_variant, _set("repo_id", "Model-GGUF"), "repo_id"),
    ("repo_id with ..", gguf_variant, _set("repo_id", "owner/.."), "repo_id"),
    ("quant not a string", gguf_variant, _set("quant", 4), "quant"),
    ("missing id", gguf_variant, _drop("id"), "id"),
    ("unknown format", gguf_variant, _set("format", "safetensors"), "format"),
    ("missing format", onnx_variant, _drop("format"), "format"),
    ("gguf without filename", gguf_variant, _drop("filename"), "filename"),
    ("gguf filename null", gguf_variant, _set("filename", None), "filename"),
    ("gguf filename not .gguf", gguf_variant, _set("filename", "model.bin"), ".gguf"),
    ("gguf without sha256", gguf_variant, _drop("sha256"), "sha256"),
    ("gguf without size", gguf_variant, _drop("size_bytes"), "size_bytes"),
    ("gguf with a provider", gguf_variant, _set("execution_provider", "cuda"), "execution_provider"),
    ("onnx without subfolder", onnx_variant, _drop("subfolder"), "subfolder"),
    ("onnx with a sha256", onnx_variant, _set("sha256", HASH_A), "sha256"),
    ("onnx provider directml", onnx_variant, _set("execution_provider", "directml"), "execution_provider"),
    ("onnx provider rocm", onnx_variant, _set("execution_provider", "rocm"), "execution_provider"),
    ("onnx provider missing", onnx_variant, _drop("execution_provider"), "execution_provider"),
    ("absolute filename", gguf_variant, _set("filename", "/etc/model.gguf"), "absolute"),
    ("filename with ..", gguf_variant, _set("filename", "../model.gguf"), ".."),
    ("filename with inner ..", gguf_variant, _set("filename", "q4/../../model.gguf"), ".."),
    ("filename with backslash", gguf_variant, _set("filename", "q4\\model.gguf"), "backslash"),
    ("filename with drive", gguf_variant, _set("filename", "C:model.gguf"), "drive letter"),
    ("filename with drive path", gguf_variant, _set("filename", "C:/models/model.gguf"), "drive letter"),
    ("filename empty segment", gguf_variant, _set("filename", "q4//model.gguf"), "segment"),
    ("absolute subfolder", onnx_variant, _set("subfolder", "/cpu_and_mobile"), "absolute"),
    ("subfolder with ..", onnx_variant, _set("subfolder", "cpu/../../.."), ".."),
    ("subfolder is ..", onnx_variant, _set("subfolder", ".."), ".."),
    ("subfolder with backslash", onnx_variant, _set("subfolder", "cpu_and_mobile\\cpu"), "backslash"),
    ("subfolder with drive", onnx_variant, _set("subfolder", "D:"), "drive letter"),
    ("subfolder control char", onnx_variant, _set("subfolder", "cpu\x00"), "control"),
    ("file path absolute", onnx_variant, _set_file(1, "path", "/model.onnx"), "absolute"),
    ("file path with ..", onnx_variant, _set_file(1, "path", "../../model.onnx"), ".."),
    ("file path with backslash", onnx_variant, _set_file(1, "path", "sub\\model.onnx"), "backslash"),
    ("file path with drive", onnx_variant, _set_file(1, "path", "c:model.onnx"), "drive letter"),
    ("file path missing", onnx_variant, _set_file(1, "path", None), "path"),
    ("uppercase sha256", gguf_variant, _set("sha256", "A" * 64), "sha256"),
    ("short sha256", gguf_variant, _set("sha256", "a" * 63), "sha256"),
    ("non-hex sha256", gguf_variant, _set("sha256", "g" * 64), "sha256"),
    ("sha256 with newline", gguf_variant, _set("sha256", "a" * 64 + "\n"), "sha256"),
    ("bad file sha256", onnx_variant, _set_file(2, "sha256", "xyz"), "sha256"),
    ("negative size", gguf_variant, _set("size_bytes", -1), "size_bytes"),
    ("zero size", gguf_variant, _set("size_bytes", 0), "size_bytes"),
    ("size as string", gguf_variant, _set("size_bytes", "1000"), "size_bytes"),
    ("size as float", gguf_variant, _set("size_bytes", 1000.0), "size_bytes"),
    ("size as bool", gguf_variant, _set("size_bytes", True), "size_bytes"),
    ("negative file size", onnx_variant, _set_file(0, "size", -100), "size"),
    ("folder size disagrees with files", onnx_variant, _set("size_bytes", 1299), "sum"),
    ("files without genai_config", onnx_variant, _set_file(0, "path", "config.json"), "genai_config.json"),
    ("file listed twice", onnx_variant, _set_file(1, "path", "model.onnx.data"), "twice"),
    ("files not a list", onnx_variant, _set("files", {"items": []}), "files"),
    ("revision not a commit", gguf_variant, _set("revision", "main"), "revision"),
    ("unknown evidence", gguf_variant, _set("evidence", "D"), "evidence"),
    ("gated not a bool", gguf_variant, _set("gated", "yes"), "gated"),
]


@pytest.mark.parametrize(
    ("label", "make", "mutate", "reason_words"), BAD_VARIANTS, ids=[b[0] for b in BAD_VARIANTS]
)
def test_a_bad_variant_is_skipped_and_the_rest_loads(tmp_path, caplog, label, make, mutate, reason_words):
    bad = make("bad-variant")
    mutate(bad)
    models = [
        model("good-model"),
        model("mixed-model", variants=[gguf_variant("mixed-gguf"), bad]),
    ]
    with caplog.at_level(logging.WARNING, logger="desktop.models.catalog"):
        cat = load_catalog(write_catalog(tmp_path, models))

    # The good model is intact, and the bad variant's model keeps its good variant.
    assert [v.id for v in cat.model("good-model").variants] == ["good-gguf", "good-onnx"]
    assert [v.id for v in cat.model("mixed-model").variants] == ["mixed-gguf"]
    assert cat.variant("bad-variant") is None

    assert len(cat.skipped) == 1, cat.skipped
    key, reason = cat.skipped[0]
    assert key == ("mixed-model#1" if label == "missing id" else "bad-variant")
    assert reason_words in reason, reason
    assert any(reason in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


BAD_MODELS = [
    ("missing display_name", _drop("display_name"), "display_name"),
    ("empty family", _set("family", "  "), "family"),
    ("license not a string", _set("license", None), "license"),
    ("params as text", _set("params", "135M"), "params"),
    ("params negative", _set("params", -5), "params"),
    ("params as bool", _set("params", True), "params"),
    ("context_length as text", _set("context_length", "8k"), "context_length"),
    ("n_layers zero", _set("n_layers", 0), "n_layers"),
    ("head_dim float", _set("head_dim", 64.5), "head_dim"),
    ("id with capitals", _set("id", "Bad Model"), "id"),
    ("id with a slash", _set("id", "bad/model"), "id"),
    ("no variants", _set("variants", []), "variants"),
    ("variants not a list", _set("variants", {"id": "x"}), "variants"),
    ("every variant bad", _set("variants", [{"id": "v1", "format": "exe"}]), "none of its variants"),
    ("unknown reasoning", _set("reasoning", "sometimes"), "reasoning"),
]


@pytest.mark.parametrize(("label", "mutate", "reason_words"), BAD_MODELS, ids=[b[0] for b in BAD_MODELS])
def test_a_bad_model_is_skipped_and_the_rest_loads(tmp_path, caplog, label, mutate, reason_words):
    bad = model("bad-model", variants=[gguf_variant("bad-gguf")])
    mutate(bad)
    with caplog.at_level(logging.WARNING, logger="desktop.models.catalog"):
        cat = load_catalog(write_catalog(tmp_path, [bad, model("good-model")]))
    assert [m.id for m in cat.models] == ["good-model"]
    assert len(cat.model("good-model").variants) == 2
    reasons = dict(cat.skipped)
    expected_key = bad["id"] if isinstance(bad.get("id"), str) and bad["id"] else 0
    assert expected_key in reasons, cat.skipped
    assert reason_words in reasons[expected_key]
    assert caplog.records, "a skipped entry must be logged"


def test_a_model_that_is_not_an_object_is_skipped_by_index(tmp_path):
    cat = load_catalog(write_catalog(tmp_path, ["not a model", model("good-model"), None]))
    assert [m.id for m in cat.models] == ["good-model"]
    assert [key for key, _ in cat.skipped] == [0, 2]
    assert all("object" in reason for _, reason in cat.skipped)


def test_a_variant_that_is_not_an_object_is_skipped(tmp_path):
    cat = load_catalog(write_catalog(tmp_path, [model(variants=[gguf_variant(), 42])]))
    assert [v.id for v in cat.model("good-model").variants] == ["good-gguf"]
    assert cat.skipped == (("good-model#1", "a variant entry must be an object, not int"),)


def test_duplicate_model_ids_keep_the_first(tmp_path):
    second = model("good-model", variants=[gguf_variant("other-gguf")])
    second["display_name"] = "Impostor"
    cat = load_catalog(write_catalog(tmp_path, [model("good-model"), second]))
    assert len(cat.models) == 1
    assert cat.model("good-model").display_name == "Test Model"
    assert cat.skipped == (("good-model", "duplicate model id 'good-model'"),)


def test_duplicate_variant_ids_are_skipped_within_and_across_models(tmp_path):
    models = [
        model("first", variants=[gguf_variant("shared"), onnx_variant("shared")]),
        model("second", variants=[gguf_variant("shared"), onnx_variant("own")]),
    ]
    cat = load_catalog(write_catalog(tmp_path, models))
    assert [v.id for v in cat.model("first").variants] == ["shared"]
    assert [v.id for v in cat.model("second").variants] == ["own"]
    assert cat.variant("shared")[0].id == "first"
    assert [key for key, _ in cat.skipped] == ["shared", "shared"]
    assert all("duplicate variant id" in reason for _, reason in cat.skipped)


def test_unknown_keys_are_ignored(tmp_path):
    m = model()
    m["future_field"] = {"anything": 1}
    m["variants"][0]["mirror_urls"] = ["https://example.invalid/x"]
    cat = load_catalog(write_catalog(tmp_path, [m], published="2026-11-24"))
    assert cat.skipped == ()
    assert len(cat.model("good-model").variants) == 2


def test_optional_model_facts_may_be_null(tmp_path):
    m = model()
    for key in ("context_length", "chat_template", "description", "n_layers", "n_kv_heads", "head_dim"):
        m[key] = None
    cat = load_catalog(write_catalog(tmp_path, [m]))
    assert cat.skipped == ()
    loaded = cat.model("good-model")
    assert loaded.context_length is None
    assert loaded.kv_cache_bytes(4096) is None


def test_gated_summary_over_variants(tmp_path):
    def gated_model(mid, values):
        variants = []
        for i, value in enumerate(values):
            v = gguf_variant(f"{mid}-{i}")
            v["filename"] = f"m{i}.gguf"
            v["gated"] = value
            variants.append(v)
        return model(mid, variants=variants)

    cat = load_catalog(write_catalog(tmp_path, [
        gated_model("open", [False, False]),
        gated_model("unknown", [False, None]),
        gated_model("closed", [None, True]),
    ]))
    assert cat.model("open").gated is False
    assert cat.model("unknown").gated is None
    assert cat.model("closed").gated is True


# -- catalogs that cannot be used at all -------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ('{"schema_version": 1, "catalog_version": "x", "models": []', "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"catalog_version": "x", "models": []}', "schema_version None"),
        ('{"schema_version": 2, "catalog_version": "x", "models": []}', "schema_version 2"),
        ('{"schema_version": "1", "catalog_version": "x", "models": []}', "schema_version '1'"),
        ('{"schema_version": true, "catalog_version": "x", "models": []}', "schema_version True"),
        ('{"schema_version": 1.0, "catalog_version": "x", "models": []}', "schema_version 1.0"),
        ('{"schema_version": 1, "models": []}', "catalog_version"),
        ('{"schema_version": 1, "catalog_version": "x", "models": {}}', "'models' list"),
    ],
)
def test_an_untrustworthy_catalog_raises(tmp_path, content, message):
    path = tmp_path / "catalog.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError, match=re.escape(message)) as info:
        load_catalog(path)
    assert str(path) in str(info.value)


def test_a_missing_or_undecodable_file_raises(tmp_path):
    with pytest.raises(CatalogError, match="Cannot read"):
        load_catalog(tmp_path / "absent.json")
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"schema_version": 1, "catalog_version": "\xe9", "models": []}')
    with pytest.raises(CatalogError, match="Cannot read"):
        load_catalog(path)


def test_parse_catalog_validates_decoded_data_the_same_way():
    good = {"schema_version": 1, "catalog_version": "x", "models": [model()]}
    assert parse_catalog(copy.deepcopy(good)).model("good-model")
    with pytest.raises(CatalogError):
        parse_catalog({**good, "schema_version": 3})


def test_thinking_models_say_how_they_think():
    shipped = load_catalog()
    modes = {m.id: m.reasoning for m in shipped.models}
    assert modes["qwen3-4b"] == "switch" and modes["deepseek-r1-distill-qwen-7b"] == "always"
    assert modes["smollm2-135m-instruct"] is None
