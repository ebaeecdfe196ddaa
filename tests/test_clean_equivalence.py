"""The fast paths in clean.py give exactly what the plain regex versions give."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from paperlens.core.clean import (
    detect_language,
    latex_to_text,
    normalize_key,
    normalize_space,
    slugify,
    strip_group_braces,
    unwrap_inline_math,
)

from .conftest import sample


def reference_normalize_space(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\r", "")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" *\n *", " ", text)
    return re.sub(r" ([,.;:!?)])(?=\s|$)", r"\1", text).strip()


def reference_normalize_key(text: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def reference_language(text: str) -> str:
    if not text:
        return "en"
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    letters = sum(1 for ch in text if ch.isalpha())
    return "zh" if letters and cjk / letters > 0.2 else "en"


spacey = st.text(alphabet=st.sampled_from(list(" \t\n\r\f\v\u00a0,.;:!?)ab中_-$\\{}é")), max_size=60)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(spacey, st.text(max_size=60)))
def test_fast_paths_match_reference(text):
    assert normalize_space(text) == reference_normalize_space(text)
    assert normalize_key(text) == reference_normalize_key(text)
    assert detect_language(text) == reference_language(text)


def test_fast_paths_match_reference_on_real_text():
    for prefix in ("000", "001", "002", "003"):
        for line in sample(prefix).read_text(encoding="utf-8").splitlines():
            assert normalize_space(line) == reference_normalize_space(line)
            assert normalize_key(line) == reference_normalize_key(line)
            assert detect_language(line) == reference_language(line)
    assert latex_to_text("a {b} \\textbf{c} $x^{2}$ ~d") == "a b c x² d"  # math superscripts as Unicode (issue 13)


def reference_slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^\w]+", "-", text.lower(), flags=re.U).strip("-") or "x"


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.text(max_size=40), st.text(alphabet="Ab é-_ .'", max_size=20)))
def test_slugify_matches_reference(text):
    assert slugify(text) == reference_slugify(text)


def test_braced_accents_as_bibtex_writes_them():
    assert latex_to_text('M{\\"u}ller and Leurr{\\\'e}.com') == "Müller and Leurré.com"
    assert latex_to_text('M\\"{u}ller, M\\"uller, {\\"U}ber') == "Müller, Müller, Über"


def test_code_links_and_bad_bytes_fast_paths():
    from paperlens.core.clean import find_code_url
    from paperlens.sources.base import has_bad_bytes

    assert find_code_url("no link here", "see HTTPS://GitHub.com/a/b.") == "HTTPS://GitHub.com/a/b"
    assert find_code_url("github.com/a/b without a scheme") is None
    assert not has_bad_bytes("plain ascii") and not has_bad_bytes("café 中文")
    assert has_bad_bytes(b"caf\xe9".decode("utf-8", errors="surrogateescape"))


latexy = st.text(alphabet=st.sampled_from(list("ab_ {}{}$$\\\\^x1é")), max_size=40)


@settings(max_examples=500, deadline=None)
@given(text=latexy)
def test_latex_passes_match_their_lookbehind_patterns(text):
    # The shipped patterns start with a literal (fast); these are the plain lookbehind versions.
    assert unwrap_inline_math(text) == re.sub(r"(?<!\\)\$\$?(.+?)(?<!\\)\$\$?", lambda m: m.group(1), text, flags=re.S)
    assert strip_group_braces(text) == re.sub(r"(?<![\w\\])\{([^{}]*)\}", r"\1", text)


@settings(max_examples=300, deadline=None)
@given(title=st.text(max_size=30), abstract=st.text(max_size=80), keywords=st.lists(st.text(max_size=10), max_size=4),
       language=st.sampled_from(["en", "zh"]))
def test_content_hash_is_the_hash_of_the_json_dump(title, abstract, keywords, language):
    import hashlib
    import json

    from paperlens.core.models import Paper

    paper = Paper(title=title, abstract=abstract, keywords=keywords, language=language)
    payload = json.dumps([title, abstract, keywords, language], ensure_ascii=False, sort_keys=True)
    assert paper.content_hash() == hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def test_library_conversion_with_the_shared_macro_table():
    """Commands only pylatexenc converts are parsed with one macro table built once: every result is what
    a table built for that text alone gives, however often the shared one was used before."""
    from paperlens.core import clean

    spans = [f"\\{name}{arg}" for name in sorted(clean._LIBRARY_MACROS)[::7]
             for arg in ("{x}", "{a}{b}", "{\\alpha}{2}", "{}", "{a_{1}}", "{$x$}", "{\\frac{1}{n}}{k}")]
    def convert(span: str, **context) -> str:
        try:
            return clean._converter.latex_to_text(span, **context)
        except Exception as exc:  # noqa: BLE001 - the same failure either way
            return type(exc).__name__

    for span in spans * 2:
        assert convert(span, latex_context=clean._WALKER_CONTEXT) == convert(span), span
    assert latex_to_text("a \\frac{1}{2} b") == "a 1/2 b"
