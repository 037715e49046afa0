"""A chat template is untrusted input: a hostile one must end in a TemplateError naming the model,
quickly and in little memory, while real templates render exactly as before.

Each hostile template runs in a child process with a wall-clock timeout and (on Linux) a cap on
its address space, so that before the limits existed these tests failed (a hang, a MemoryError,
a bare RecursionError, or 200 MB rendered) instead of hanging the test run or the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from desktop.engines.chat_template import CHATML, TemplateError, render

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Bye"},
]
WALL_S = 5.0
MEMORY_BOUND = 64 << 20

CHILD = r"""
import json, sys, time, tracemalloc
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
except (ImportError, ValueError, OSError):
    pass
from desktop.engines.chat_template import TemplateError, render
template = sys.stdin.read()
messages = [{"role": "user", "content": "Hi"}]
tracemalloc.start()
start = time.perf_counter()
try:
    render(template, messages, source_name="evil.gguf")
    outcome = "rendered"
except TemplateError as exc:
    outcome = "TemplateError: " + str(exc)
except BaseException as exc:
    outcome = type(exc).__name__ + ": " + str(exc)[:200]
seconds = time.perf_counter() - start
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak": tracemalloc.get_traced_memory()[1]}))
"""

HOSTILE = {
    # 200 MB in 3.5 s, folded at compile time.
    "big product": "{{ 'a' * 200000000 }}",
    # Jinja's ** is left-associative: the tower is spelled out; it never finished.
    "power tower": "{{ 9 ** (9 ** 9) }}",
    "nested loops": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "huge range": "{% for i in range(10 ** 12) %}{% endfor %}",
    "recursive macro": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "exponential macro": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                         "{{ f(40) }}",
    "huge output via loop": "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
    "huge output in a macro": "{% macro m() %}{% for i in range(100000) %}{% for j in range(1000) %}"
                              "template text that is emitted again and again{% endfor %}{% endfor %}"
                              "{% endmacro %}{{ m() | length }}",
    "doubling by ~": "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                     "{% endfor %}{{ ns.s | length }}",
    "shared list printed": "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}"
                           "{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l | tojson }}",
    "width": "{{ 'a' | center(500000000) | length }}",
    "widths in a loop": "{{ range(100000) | map('string') | map('center', 1000000) | list | length }}",
    "format width": "{{ '%0999999999d' % 1 }}{{ '{:0999999999}'.format(1) }}",
    # Arithmetic on huge numbers. A hex literal converts at once; the compiler then folded '//'
    # on two of them for over a minute, outside any limit, at every model load.
    "folded division of huge literals": "{{ (0x" + "f" * 3_000_000 + ") // (0x" + "e" * 1_500_000 + ") }}",
    # The same at run time, the numbers read from text: each '//' ran on in C past the deadline.
    "division of numbers read from text": "{% set a = ('f' * 4000000) | int(base=16) %}"
                                          "{% set b = ('e' * 2000000) | int(base=16) %}{{ a // b > 0 }}",
    "remainder of numbers read from text": "{% set a = ('7' * 4000000) | int(base=8) %}"
                                           "{{ a % (a // 3 + 1) > 0 }}",
    # round(5, -10**8) computes 10 ** (10 ** 8) first.
    "rounding to a huge power of ten": "{{ 5 | round(-100000000) }}",
    "squaring in a loop": "{% set ns = namespace(x=3) %}{% for i in range(64) %}{% set ns.x = ns.x * ns.x %}"
                          "{% endfor %}{{ ns.x > 0 }}",
    "bytes of a number": "{{ (1).to_bytes(200000000, 'big') | length }}",
}


def run_child(template: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        out = subprocess.run([sys.executable, "-c", CHILD], input=template, capture_output=True,
                             text=True, cwd=ROOT, env=env, timeout=WALL_S + 20)
    except subprocess.TimeoutExpired:
        pytest.fail("the render did not end")
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("template", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_templates_are_stopped(template):
    result = run_child(template)
    assert result["outcome"].startswith("TemplateError: The chat template of evil.gguf "), result["outcome"]
    assert result["seconds"] < WALL_S, result
    assert result["peak"] < MEMORY_BOUND, f"{result['peak'] / 2**20:.0f} MiB: {result['outcome']}"


def test_the_messages_say_what_was_stopped():
    def error(template, **kwargs):
        with pytest.raises(TemplateError) as caught:
            render(template, MESSAGES, source_name="model.gguf", **kwargs)
        return str(caught.value)

    assert "more than 4,194,304 characters" in error("{{ 'a' * 200000000 }}")
    assert "more than 2,400 digits" in error("{{ 9 ** (9 ** 9) }}")
    assert "range of more than 100,000 numbers" in error("{{ range(10 ** 12) }}")
    assert "recursion" in error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")
    assert "more than 0.2 seconds" in error("{% for i in range(99999) %}{% for j in range(99999) %}"
                                            "{% endfor %}{% endfor %}", time_limit=0.2)
    assert error("{{ 1 // 0 }}").startswith("The chat template of model.gguf failed: ZeroDivisionError")
    assert error("{{ 0x" + "f" * 2100 + " - 1 }}").startswith(
        "The chat template of model.gguf is invalid: it writes a number of more than 2,400 digits")
    assert error("{{ 0x" + "f" * 3000 + " - 1 }}").startswith(
        "The chat template of model.gguf is invalid: it has more than 2,400 digits in a row")
    assert "more than 2,400 digits" in error("{{ ('f' * 3000) | int(base=16) }}")
    assert "more than 2,400 digits" in error("{{ (7 ** 2000) // (3 ** 7000) }}")
    assert "round to more than 2,400 digits" in error("{{ 5 | round(-100000000) }}")


CHECK_CHILD = r"""
import json, sys, time
from desktop.engines.families import choose_template
source = sys.stdin.read()
start = time.perf_counter()
template, family, note = choose_template(source, None, [])
print(json.dumps({"family": family, "note": note, "seconds": time.perf_counter() - start}))
"""


def test_a_template_with_huge_numbers_does_not_stall_a_model_load():
    # Loading a model checks its template (families.choose_template): it falls back to the
    # family's format, quickly, as for any template that does not work.
    source = "{{ (0x" + "f" * 3_000_000 + ") // (0x" + "e" * 1_500_000 + ") }}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        out = subprocess.run([sys.executable, "-c", CHECK_CHILD], input=source, capture_output=True,
                             text=True, cwd=ROOT, env=env, timeout=WALL_S + 20)
    except subprocess.TimeoutExpired:
        pytest.fail("checking the template did not end")
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["family"] == "chatml" and "more than 2,400 digits" in result["note"], result
    assert result["seconds"] < WALL_S, result


def test_limits_grow_with_a_long_conversation():
    # A prompt is as long as the conversation: a few million characters of it still render.
    long = [{"role": "user", "content": "word " * 2_000_000}]
    prompt = render(None, long)
    assert len(prompt) > 10_000_000 and prompt.endswith("<|im_start|>assistant\n")


def reference(template: str, messages, **context) -> str:
    """What Hugging Face's renderer makes of it (transformers is in the test extras)."""
    from transformers.utils.chat_template_utils import _compile_jinja_template

    return _compile_jinja_template(template).render(messages=messages, tools=None, documents=None,
                                                    **context)


NORMAL = {
    "chatml": CHATML,
    "loop variables": "{% for m in messages %}{{ loop.index }}/{{ loop.length }}{{ '.' if loop.last }}"
                      "{{ m.role | upper }}:{{ m['content'] | trim }}\n{% endfor %}",
    "namespace and macros": "{% set ns = namespace(system='') %}{% macro turn(m) %}<{{ m.role }}>"
                            "{{ m.content ~ '|' ~ (m.content | length) }}</{{ m.role }}>{% endmacro %}"
                            "{% for m in messages %}{% if m.role == 'system' %}{% set ns.system = "
                            "ns.system + m.content %}{% else %}{{ turn(m) }}{% endif %}{% endfor %}"
                            "[{{ ns.system }}]",
    "filters": "{{ messages | map(attribute='role') | join(', ') }} {{ messages | tojson }} "
               "{{ messages[0].content.split(' ') | reverse | list }} {{ '%s-%d' % ('a', 3) }} "
               "{{ '{}:{}'.format('x', 2) }} {{ 'ab' * 3 }} {{ 2 ** 10 }} {{ (messages | length) * 2 }}",
    "arithmetic": "{{ 7 // 2 }} {{ 7 - 2 }} {{ 7 / 2 }} {{ -7 % 3 }} {{ 2 ** 100 - 1 }} {{ 10 ** 10 ** 7 }} "
                  "{{ '42' | int }} {{ 'ff' | int(base=16) }} {{ '0x1f' | int(0, 16) }} {{ 'x' | int(-1) }} "
                  "{{ 3.14159 | round(2) }} {{ 1234 | round(-2) }} {{ 2.5 | round(0, 'floor') }} "
                  "{{ (messages | length) - 1 }} {{ range(5) | sum }} {{ 255.0 / 3 }}",
    "loop controls": "{% for i in range(10) %}{% if i == 3 %}{% continue %}{% endif %}"
                     "{% if i == 6 %}{% break %}{% endif %}{{ i }}{% endfor %}",
    "autoescape block": "{% autoescape true %}<b>{{ '<i>' }}</b>{% endautoescape %}<u>",
    "recursive loop": "{% for item in [{'n': 1, 'c': [{'n': 2, 'c': [{'n': 3, 'c': []}]}]}] recursive %}"
                      "({{ item.n }}{{ loop(item.c) }}){% endfor %}",
}


@pytest.mark.parametrize("template", NORMAL.values(), ids=NORMAL.keys())
def test_normal_templates_render_unchanged(template):
    context = {"bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": True}
    assert render(template, MESSAGES, **context) == reference(template, MESSAGES, **context)


def test_each_thread_renders_under_its_own_name():
    # The generation thread and the token counter's render at the same time.
    errors = {}

    def fail(name):
        try:
            render("{{ raise_exception('no') }}", MESSAGES, source_name=name)
        except TemplateError as exc:
            errors[name] = str(exc)

    threads = [threading.Thread(target=fail, args=(f"m{i}.gguf",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == {f"m{i}.gguf": f"The chat template of m{i}.gguf refused the conversation: no"
                      for i in range(8)}


# llama.cpp's collection of real templates (~70 model families), from the llama-cpp-python sdist
# (tests/fixtures_sdist.py fetches it from PyPI once).


@pytest.mark.parametrize("length", ["short", "long"])
def test_real_templates_render_unchanged_within_the_limits(length):
    messages = MESSAGES if length == "short" else [MESSAGES[0]] + [
        {"role": ("user", "assistant")[i % 2], "content": f"Turn {i}. " + "lorem ipsum dolor " * 300}
        for i in range(100)]
    context = {"bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": True}
    from tests.fixtures_sdist import templates_dir

    templates = sorted(templates_dir().glob("*.jinja"))
    assert len(templates) > 50
    rendered = 0
    for path in templates:
        source = path.read_text(encoding="utf-8")
        try:
            expected = reference(source, messages, **context)
        except Exception:  # a template that needs tools, a custom tag or other roles
            with pytest.raises(TemplateError):
                render(source, messages, source_name=path.name, **context)
            continue
        assert render(source, messages, source_name=path.name, **context) == expected, path.name
        rendered += 1
    assert rendered > 50
