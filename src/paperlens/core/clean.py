"""Text cleaning shared by every source: LaTeX to readable text, code links, language, keys.

LaTeX to Unicode uses pylatexenc's tables (its macro -> character and accent tables, about 800 symbols)
applied by a few regex passes, which are cheap; pylatexenc's own converter (LatexNodes2Text, about 10 ms
an abstract, too slow for every abstract at ingest) only converts the rare command with arguments that
the passes do not know (\\frac{a}{b}, \\sqrt{x}, \\mathbb{R}).
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable
from typing import Any, NamedTuple

from paperlens.core.words import strip_accents

# Text-styling commands whose argument is kept as it is.
_STYLE_COMMANDS = (
    "textbf", "textit", "emph", "texttt", "textsc", "tsc", "textrm", "textsf", "textnormal", "underline",
    "textup", "textmd", "mbox", "text", "mathrm", "mathbf", "mathit", "mathsf", "mathtt", "mathbb",
    "mathcal", "boldsymbol", "bm", "operatorname", "textcolor", "uppercase", "lowercase", "textsl",
    "textsuperscript", "ensuremath", "enquote", "NoCaseChange", "nocase", "MakeUppercase", "MakeLowercase",
    # AMS-TeX's, as MathSciNet writes titles: \Bbb{Z}, \bold{R}, \frak{sl}, \roman{GL}, \germ{g}, \scr{C}
    "Bbb", "bold", "frak", "roman", "germ", "scr",
)
# Commands dropped with their argument: references that make no sense outside the paper.
_DROP_COMMANDS = ("cite", "citep", "citet", "ref", "eqref", "label", "vspace", "hspace", "noopsort")
# Macros authors define for their method's name; rendered as the code repository's name when known.
PLACEHOLDER_MACROS = ("name", "ours", "method", "model", "sys", "system", "algname", "tool", "ourmethod")


def _library_symbols(db: Any) -> dict[str, str]:
    """pylatexenc's macros that stand for a fixed text (\\nabla -> ∇, \\o -> ø, \\ss -> ß)."""
    symbols: dict[str, str] = {}
    for category in ("latex-base", "advanced-symbols", "latex-approximations"):
        for name, spec in db.d.get(category, {}).get("macros", {}).items():
            repl = spec.simplify_repl
            if isinstance(repl, str) and "%" not in repl:
                symbols.setdefault(name, repl)
    return symbols


# Where our readable form differs from the library's (plain ε, Σ, a single space, names kept) or the
# library has no text at all (biblatex's \hyphen, \relax).
_OVERRIDES = {
    "epsilon": "ε", "phi": "φ", "sim": "~", "sum": "Σ", "prod": "Π", "sqrt": "√", "cdots": "…", "%": "%",
    "quad": " ", "qquad": " ", "LaTeX": "LaTeX", "TeX": "TeX", "hyphen": "-", "relax": "", "protect": "",
    "xspace": "", "unskip": "", "ignorespaces": "", "nobreakspace": " ", "textquotesingle": "'",
    # Font and size switches ("{\\em Hardness}", "{\\bf x}", old BibTeX exports) and math delimiter sizes
    # ("\\left(") are markup: without these their names were left in the text ("em Hardness").
    **dict.fromkeys((
        "em", "it", "bf", "sl", "sc", "tt", "rm", "sf", "cal", "itshape", "bfseries", "scshape", "slshape",
        "upshape", "mdseries", "rmfamily", "sffamily", "ttfamily", "normalfont", "boldmath", "unboldmath",
        "tiny", "scriptsize", "footnotesize", "small", "normalsize", "large", "Large", "LARGE", "huge", "Huge",
        "left", "right", "middle", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
        "biggr", "Biggl", "Biggr", "displaystyle", "textstyle", "scriptstyle", "limits", "nolimits",
        "Bbb", "bold", "frak", "roman", "germ", "scr"), ""),  # AMS-TeX's without braces: $\\Bbb Z$
    # the number sets as math papers define them (\\newcommand{\\R}{\\mathbb{R}}): a one-letter macro unknown
    # here is dropped, which left "over (√5)" of "over $\\Q(\\sqrt{5})$" and "ⁿ" of "$\\R^n$"
    "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "R": "ℝ", "C": "ℂ",
}


class _Latex(NamedTuple):
    symbols: dict[str, str]  # macro -> its text
    accent_marks: dict[str, str]  # accent command -> combining mark
    library_macros: set[str]  # macros the library's converter knows that the passes below do not (they take arguments)
    converter: Any  # pylatexenc's LatexNodes2Text
    # The parser's table of macros, built once: LatexWalker builds it again for every text it is not given
    # one (700 calls, 40% of converting "\\frac{1}{2}"); parsing only looks macros up in it.
    walker_context: Any


@functools.cache
def _latex() -> _Latex:
    """pylatexenc's tables and converter, made on the first text with markup: a process that cleans none
    (a search) does not import the library (~10 ms with logging)."""
    import logging

    from pylatexenc.latex2text import LatexNodes2Text, get_default_latex_context_db
    from pylatexenc.latex2text._defaultspecs import unicode_accents_list
    from pylatexenc.latexwalker import get_default_latex_context_db as walker_context_db

    db = get_default_latex_context_db()
    library = {name for cat in db.d.values() for name in cat.get("macros", {})}
    library -= {*_STYLE_COMMANDS, *_DROP_COMMANDS, *PLACEHOLDER_MACROS, "href", "url", "footnote", "unicode"}
    logging.getLogger("pylatexenc").setLevel(logging.ERROR)  # tolerant parsing logs each oddity
    return _Latex({**_library_symbols(db), **_OVERRIDES},
                  {name: mark for name, mark in unicode_accents_list if len(name) == 1}, library,
                  LatexNodes2Text(math_mode="text", strict_latex_spaces=False), walker_context_db())


_LAZY = {"_SYMBOLS": "symbols", "_ACCENT_MARKS": "accent_marks", "_LIBRARY_MACROS": "library_macros",
         "_converter": "converter", "_WALKER_CONTEXT": "walker_context"}


def __getattr__(name: str) -> Any:
    """The tables under their module names (`clean._converter`), made on first use."""
    if name in _LAZY:
        return getattr(_latex(), _LAZY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_UNICODE_ESCAPE = re.compile(r"\\unicode\{x([0-9a-fA-F]{2,6})\}")
_HREF = re.compile(r"\\href\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_URL = re.compile(r"\\url\s*\{([^{}]*)\}")
_FOOTNOTE = re.compile(r"\\footnote\s*\{([^{}]*)\}")
# Escaped characters (as our BibTeX export writes them) stand in as private-use characters while the
# passes run, so no pass reads them as markup; they come back as the characters at the end.
_ESCAPED = re.compile(r"\\(?:[{}]|(textbraceleft|textbraceright|textbackslash|textasciitilde|textasciicircum)"
                      r"(?![A-Za-z])(?:\{\})?)")
_HELD = {"{": "\ue000", "}": "\ue001", "textbraceleft": "\ue000", "textbraceright": "\ue001",
         "textbackslash": "\ue002", "textasciitilde": "\ue003", "textasciicircum": "\ue004"}
_RELEASE = str.maketrans({"\ue000": "{", "\ue001": "}", "\ue002": "\\", "\ue003": "~", "\ue004": "^"})
# A tilde is a tie (a space) between words ("Fig.~3", "D.~E. Knuth"); standing alone before a number or a
# space it means "about" as arXiv abstracts write it ("~1.1 dex", "B_0 ~ 30 T"), and after a slash it is a URL's.
_KEPT_TILDE = re.compile(r"(?:^|(?<=[\s(\[=<>]))~(?=[\d\s.]|$)|(?<=/)~", re.M)
_HYPHEN = re.compile(r"\\hyphen(?![A-Za-z])\s*(?:\{\})?")
_PAREN_MATH = re.compile(r"\\\((.{1,300}?)\\\)", re.S)  # bounded: unclosed \( cannot go quadratic
_QUOTE = re.compile(r"\\(?:mkbibquote|enquote\*?|textquote)\s*\{([^{}]*)\}")
_DROP = re.compile(r"\\(?:{})\*?\s*(?:\[[^\]]*\])?\s*\{{[^{{}}]*\}}".format("|".join(_DROP_COMMANDS)))
_STYLE = re.compile(r"\\(?:{})\*?\s*\{{([^{{}}]*)\}}".format("|".join(sorted(_STYLE_COMMANDS, key=len, reverse=True))))
# \"u, \"{u}, \'{\i} and the BibTeX forms {\"u}, {\H o}, {\v C}: the closing brace is eaten only when an
# opening one was. Letter accents (\k, \r, \v, \H, \c, ...) need braces or a lone letter after a space,
# so a macro such as \url or \rho is never read as one.
_ACCENT = re.compile(
    r"""(\{)?\\(?:(['`^"~=.])(?:\{(\\?[A-Za-z])\}|(\\?[A-Za-z]))"""
    r"""|([cHkbdruv])(?:\{(\\?[A-Za-z])\}|\s+([A-Za-z])(?![A-Za-z])))(?(1)\})""")
_BRACED_SYMBOL = re.compile(r"\{\\([A-Za-z]+)\s*\}")  # BibTeX's {\o}, {\ss}, {\L}
_TILDE_ACCENT = re.compile(r"\\(?:tilde|hat|bar|vec|widetilde|widehat|overline)\s*\{([^{}]*)\}")
_DEGREE = re.compile(r"\^\s*(?:\{\s*\\circ\s*\}|\\circ(?![A-Za-z]))")
_SUPERSUB = re.compile(r"([\^_])\{([^{}]*)\}")
_MATH_SUPERSUB = re.compile(r"([\^_])(?:\{([^{}]*)\}|([A-Za-z0-9+\-=()]))")
_COMMAND = re.compile(r"\\([A-Za-z]+|[%&_#${},;! ])")
_BARE_PERCENT = re.compile(r"(?<!\\)%")
_ARG_COMMAND = re.compile(r"\\([A-Za-z]+)\*?\s*\{")
# A pattern that starts with a lookbehind is tried at every position (slow on long abstracts); these
# start with a literal and give the same matches (tests/test_clean_equivalence.py checks both).
# An escaped \$ is matched and kept, so it never opens math.
_INLINE_MATH = re.compile(r"\\\$|\$\$?(.+?)(?<!\\)\$\$?", re.S)
_ACCENT_START = re.compile(r"""\\(?:['`^"~=.]|[cHkbdruv][\s{])""")
_STRAY_BACKSLASH = re.compile(r"\\(?![A-Za-z])")

_SUPERSCRIPTS = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzT",
                         "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀ", strict=True))
_SUBSCRIPTS = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))

CODE_HOSTS = re.compile(
    r"https?://(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|bitbucket\.org|codeberg\.org|"
    r"anonymous\.4open\.science|[\w-]+\.github\.io|sites\.google\.com|gitee\.com)/?[^\s{}<>\"'\\]*",
    re.I,
)
_ANY_URL = re.compile(r"https?://[^\s{}<>\"'\\]+", re.I)


def _accent(match: re.Match[str]) -> str:
    mark = match.group(2) or match.group(5)
    letter = match.group(3) or match.group(4) or match.group(6) or match.group(7)
    if letter.startswith("\\"):  # \'{\i}: the dotless i takes the accent as an i
        letter = letter[1:]
        if letter not in ("i", "j"):
            return match.group(0)
    return unicodedata.normalize("NFC", letter + _latex().accent_marks[mark])


def _hold(match: re.Match[str]) -> str:
    return _HELD[match.group(1) or match.group(0)[1]]


def _braced_symbol(match: re.Match[str]) -> str:
    name, symbols = match.group(1), _latex().symbols
    return symbols[name] if name in symbols and name not in PLACEHOLDER_MACROS else match.group(0)


def _apply_until_stable(pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str], text: str, limit: int = 12) -> str:
    # Nested commands (\textbf{\texttt{x}}) unwrap one level per pass.
    for _ in range(limit):
        new = pattern.sub(repl, text)
        if new == text:
            return new
        text = new
    return text


def _link_text(match: re.Match[str]) -> str:
    url, text = match.group(1).strip(), match.group(2).strip()
    if not text or text == url or text.lower() in {"link", "here", "code", "github", "this url", "website"}:
        return url
    return f"{text} ({url})"


def _script(marker: str, body: str) -> str:
    """x^{2} -> x², x_i -> xᵢ where Unicode has every character, else x^(ab) / x_b as plain text."""
    table = _SUPERSCRIPTS if marker == "^" else _SUBSCRIPTS
    if body and all(ch in table for ch in body):
        return "".join(table[ch] for ch in body)
    return marker + (body if len(body) == 1 else f"({body})")


def _braced_script(match: re.Match[str]) -> str:
    body = match.group(2)
    return match.group(1) + (body if len(body) == 1 else f"({body})")


def _math_script(match: re.Match[str]) -> str:
    body = match.group(2) if match.group(2) is not None else match.group(3)
    return _script(match.group(1), body.strip())


def _library_span(text: str, start: int, limit: int = 400) -> int:
    """End of a command's braced arguments from start (the backslash), or -1 past the limit/unbalanced."""
    depth, i, end = 0, text.index("{", start), -1
    while i < len(text) and i - start < limit:
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                end = i + 1
                j = end
                while j < len(text) and text[j] == " ":
                    j += 1
                if j < len(text) and text[j] == "{":  # a further argument: \frac{a}{b}
                    i = j
                    continue
                return end
        i += 1
    return end


def _library_commands(text: str) -> str:
    """Commands with arguments that only the library knows (\\frac, \\sqrt, \\mathbb): converted by it."""
    out, pos, tries = [], 0, 0
    latex = _latex()
    for match in _ARG_COMMAND.finditer(text):
        if match.start() < pos or match.group(1) not in latex.library_macros or match.group(1) in latex.symbols:
            continue
        tries += 1
        if tries > 32:  # a hostile text of thousands of commands: the rest is left to the passes
            break
        end = _library_span(text, match.start())
        if end < 0:
            continue
        span = _BARE_PERCENT.sub(r"\\%", text[match.start():end])  # an unescaped % would start a comment
        try:
            converted = latex.converter.latex_to_text(span, latex_context=latex.walker_context)
        except Exception:  # the library's handlers fail on some odd arguments: leave those to the passes
            continue
        out += [text[pos:match.start()], converted]
        pos = end
    return "".join(out) + text[pos:] if out else text


def latex_to_text(raw: str, placeholder: str | None = None) -> str:
    """LaTeX markup in an abstract to clean readable text; math keeps its symbols."""
    if "\\" not in raw and "$" not in raw and "~" not in raw and "``" not in raw:
        return normalize_space(raw)
    # Each pass needs a character it could act on; checking first skips most passes on most texts.
    text = raw.replace("\\\\", " ")  # LaTeX line break
    symbols = _latex().symbols

    def command(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in symbols:
            return symbols[name]
        if name in PLACEHOLDER_MACROS:
            return placeholder or name
        return name if len(name) > 1 else ""

    held = False
    if "\\{" in text or "\\}" in text or "\\text" in text:
        text, held = _ESCAPED.sub(_hold, text), True
    if "\\" in text:
        text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
        if "circ" in text:
            text = _DEGREE.sub("°", text)
        text = _DROP.sub("", text)
        text = _apply_until_stable(_STYLE, _first_group, text)
        text = _HREF.sub(_link_text, text)
        text = _URL.sub(lambda m: m.group(1).strip(), text)
        text = _apply_until_stable(_FOOTNOTE, lambda m: f" ({m.group(1).strip()})", text)
        text = _apply_until_stable(_TILDE_ACCENT, _first_group, text)
        if _ACCENT_START.search(text):
            text = _ACCENT.sub(_accent, text)
        if "{\\" in text:
            text = _BRACED_SYMBOL.sub(_braced_symbol, text)
        if "hyphen" in text:  # biblatex's \hyphen eats the space after it, as every word macro does
            text = _HYPHEN.sub("-", text)
        if "quote" in text:
            text = _apply_until_stable(_QUOTE, lambda m: f"\u201c{m.group(1).strip()}\u201d", text)
        if "\\(" in text:  # \( x \) is inline math as $x$ is
            text = _PAREN_MATH.sub(r"$\1$", text)
        if "{" in text:
            text = _library_commands(text)

    if "~" in text:  # before the symbols: \sim reads as "~", which is no tie
        if _KEPT_TILDE.search(text):
            text, held = _KEPT_TILDE.sub("\ue003", text), True
        text = text.replace("~", " ")
    if "$" in text:
        def math(match: re.Match[str]) -> str:
            body = match.group(1)
            if body is None:
                return match.group(0)
            if "\\" in body:
                body = _COMMAND.sub(command, body)
            if "^" in body or "_" in body:
                body = _MATH_SUPERSUB.sub(_math_script, body)
            return body

        text = _INLINE_MATH.sub(math, text)
    if "^{" in text or "_{" in text:
        text = _SUPERSUB.sub(_braced_script, text)
    if "\\" in text:
        text = _COMMAND.sub(command, text)
    text = text.replace("``", "\u201c").replace("''", "\u201d").replace("---", "—")
    text = text.replace("--", "–")
    # Leftover grouping braces are markup, not content.
    if "{" in text:
        text = strip_group_braces(text)
    text = text.replace("{}", "")
    if "\\" in text:
        text = _STRAY_BACKSLASH.sub("", text)  # a stray backslash is markup, not content
    if held:
        text = text.translate(_RELEASE)
    return normalize_space(text)


def unwrap_inline_math(text: str) -> str:
    """$x$ and $$x$$ -> x; an escaped \\$ stays as it is."""
    return _INLINE_MATH.sub(lambda m: m.group(0) if m.group(1) is None else m.group(1), text)


_GROUP_BRACES = re.compile(r"\{([^{}]*)\}")
_BRACE_KEEPER = re.compile(r"[\w\\]")


def strip_group_braces(text: str) -> str:
    """{x} -> x, except after a word character or backslash (there the braces are an argument)."""

    def strip(match: re.Match[str]) -> str:
        start = match.start()
        if start and _BRACE_KEEPER.match(match.string, start - 1):
            return match.group(0)
        return match.group(1)

    return _GROUP_BRACES.sub(strip, text)
_TABS_TO_SPACES = str.maketrans("\t\f\v", "   ")
_SPACE_PUNCT = re.compile(r" ([,.;:!?)])(?=\s|$)")


def _first_group(match: re.Match[str]) -> str:
    return match.group(1)


def normalize_space(text: str) -> str:
    # Every substitution is guarded by a cheap test for what it acts on (this runs on every text we read).
    if "\u00a0" in text:
        text = text.replace("\u00a0", " ")
    if "\r" in text:
        text = text.replace("\r", "")
    # str methods, not a regex: a pattern tried at every space costs most of the time of reading an abstract
    if "\t" in text or "\f" in text or "\v" in text:
        text = text.translate(_TABS_TO_SPACES)
    while "  " in text:
        text = text.replace("  ", " ")
    if "\n" in text:  # a line break and the spaces around it become one space
        text = text.replace(" \n", "\n").replace("\n ", "\n").replace("\n", " ")
    # On long texts one scan is cheaper than testing for each of the seven pairs.
    if len(text) > 200 or (" ," in text or " ." in text or " ;" in text or " :" in text or " !" in text
                           or " ?" in text or " )" in text):
        text = _SPACE_PUNCT.sub(_first_group, text)
    return text.strip()


def find_code_url(*texts: str | None) -> str | None:
    """The first link to code (GitHub, GitLab, Hugging Face, project pages) in the texts."""
    for text in texts:
        if not text or "://" not in text:  # every link the pattern matches has one
            continue
        for match in CODE_HOSTS.finditer(text):
            url = match.group(0).rstrip(".,;:)]}>")
            if url.endswith(".git"):
                url = url[:-4]
            if re.match(r"https?://(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co)/?$", url, re.I):
                continue  # a bare host is not a repository
            return url
    return None


def repo_name(url: str | None) -> str | None:
    if not url:
        return None
    parts = [p for p in re.sub(r"^https?://", "", url).split("/") if p]
    if len(parts) >= 3 and parts[0].lower() in {"github.com", "gitlab.com", "huggingface.co", "gitee.com"}:
        return parts[2]
    return None


_CJK = re.compile("[\u4e00-\u9fff]")


def detect_language(text: str) -> str:
    """'zh' when a meaningful share of the letters are CJK ideographs, else 'en'."""
    if not text or text.isascii() or _CJK.search(text) is None:  # most abstracts have no CJK at all
        return "en"
    cjk = len(_CJK.findall(text))
    letters = sum(1 for ch in text if ch.isalpha())
    return "zh" if letters and cjk / letters > 0.2 else "en"


_NON_WORD = re.compile(r"[\W_]+")
_ASCII_NON_ALNUM = bytes(c for c in range(128) if not chr(c).isalnum())


def normalize_key(text: str) -> str:
    """Lower-case letters and digits only: the key near-identical texts share."""
    text = unicodedata.normalize("NFKC", text).lower()
    if text.isascii():  # same result as the regex, ten times faster
        return text.encode("ascii").translate(None, _ASCII_NON_ALNUM).decode("ascii")
    # Drop ASCII punctuation and spaces as bytes (UTF-8 multi-byte sequences have no ASCII bytes), then
    # whatever non-ASCII non-letters are left.
    # (A lone surrogate, e.g. from a JSON \\ud800 escape, is not a letter: "replace" makes it a '?', dropped.)
    text = text.encode("utf-8", "replace").translate(None, _ASCII_NON_ALNUM).decode("utf-8")
    return text if not text or text.isalnum() else _NON_WORD.sub("", text)


def title_key(title: str) -> str | None:
    key = normalize_key(latex_to_text(title))
    return key if len(key) >= 12 else None


def abstract_keys(abstract: str) -> list[str]:
    """Two keys, head and tail of the normalised abstract: a match on either means the same paper
    (tolerates a changed sentence at one end, line wrapping and escaped characters)."""
    key = normalize_key(abstract)
    if len(key) < 80:
        return []
    return [
        "abs-head:" + hashlib.sha1(key[:160].encode()).hexdigest()[:20],
        "abs-tail:" + hashlib.sha1(key[-160:].encode()).hexdigest()[:20],
    ]


def short_hash(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


_NON_SLUG = re.compile(r"[^\w]+")


_ASCII_TO_DASH = bytes(c if c >= 128 or chr(c).isalnum() or c == ord("_") else ord("-") for c in range(256))


def slugify(text: str) -> str:
    if text.isascii():  # no accents to strip; str methods beat the regex on short names
        slug = text.lower().encode("ascii").translate(_ASCII_TO_DASH).decode("ascii")
        while "--" in slug:
            slug = slug.replace("--", "-")
        return slug.strip("-") or "x"
    slug = _NON_SLUG.sub("-", strip_accents(text).lower()).strip("-")
    return slug or "x"
