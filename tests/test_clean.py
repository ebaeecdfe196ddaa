from paperlens.core.clean import detect_language, find_code_url, latex_to_text
from paperlens.core.ids import normalize_arxiv_id, normalize_category


def test_latex_markup_becomes_text():
    assert latex_to_text(r"we propose \textbf{ARM} (\textbf{A}ctivation)") == "we propose ARM (Activation)"
    assert latex_to_text(r"from 14.4\% to 3.6\%") == "from 14.4% to 3.6%"
    assert latex_to_text(r"\textit{\textbf{Nested}} and \texttt{code} and \textsc{Sc}") == "Nested and code and Sc"
    assert latex_to_text(r"see \href{https://x.org/a}{our site}") == "see our site (https://x.org/a)"
    assert latex_to_text(r"Code\footnote{https://github.com/a/b}.") == "Code (https://github.com/a/b)."
    assert latex_to_text(r"with $\epsilon=0$ and $6\times$") == "with ε=0 and 6×"
    assert latex_to_text(r"rate $\tilde{\mathcal{O}}(T^{2/3})$") == "rate O(T^(2/3))"
    assert latex_to_text(r"\name~ works", placeholder="H2Rec") == "H2Rec works"


def test_a_tilde_is_a_tie_between_words_and_kept_where_it_means_about():
    # \sim reads as "~"; the tie pass ran after the symbols and blanked it: "size 100 nm"
    assert latex_to_text(r"size $\sim 100$ nm and $a \sim b$") == "size ~ 100 nm and a ~ b"
    # arXiv abstracts write "about" as a bare tilde, and URLs hold one after a slash
    assert latex_to_text(r"up to ~1.1 dex, with $n$ ~ 10^5 cm^-3") == "up to ~1.1 dex, with n ~ 10^5 cm^-3"
    assert latex_to_text(r"see $x$ at http://cs.example.edu/~bob/code") == "see x at http://cs.example.edu/~bob/code"
    assert latex_to_text(r"Fig.~3 of D.~E. Knuth") == "Fig. 3 of D. E. Knuth"  # ties are spaces


def test_font_switches_and_delimiter_sizes_leave_no_name_behind():
    assert latex_to_text(r"On the {\em Hardness} of {\it Things}") == "On the Hardness of Things"
    assert latex_to_text(r"{\bf Bold}, {\sc Caps}, {\tt mono} and {\itshape shape}") == "Bold, Caps, mono and shape"
    assert latex_to_text(r"$\left[ x \right]$ and {\small tiny}") == "[ x ] and tiny"


def test_number_set_macros_read_as_their_sets():
    assert latex_to_text(r"forms over $\Q(\sqrt{5})$ on $\R^n$, $\Z$ and $\N$") == "forms over ℚ(√5) on ℝⁿ, ℤ and ℕ"


def test_ams_tex_fonts_as_mathscinet_writes_them_leave_no_name_behind():
    assert latex_to_text(r"$\Bbb Z$-modules over $\bold R$ and $\frak{sl}_2$, $\roman{GL}_n$") == \
        "Z-modules over R and sl₂, GLₙ"


def test_hostile_text_is_kept_as_text():
    hostile = "<script>alert(1)</script> <img src=x onerror=alert(1)>"
    assert latex_to_text(hostile) == hostile


def test_code_urls():
    assert find_code_url("at \\url{https://github.com/PRIME-RL/TTRL}.") == "https://github.com/PRIME-RL/TTRL"
    assert find_code_url("see https://huggingface.co/datasets/x/y, and") == "https://huggingface.co/datasets/x/y"
    assert find_code_url("https://github.com/BokwaiHo/COLA.git}{Link}") == "https://github.com/BokwaiHo/COLA"
    assert find_code_url("no links here") is None


def test_ids_and_categories():
    assert normalize_arxiv_id("704.0001") == "0704.0001"
    assert normalize_arxiv_id("arXiv:2401.12345v3") == "2401.12345"
    assert normalize_arxiv_id("https://arxiv.org/abs/hep-th/9901001v1") == "hep-th/9901001"
    assert normalize_category("CL") == "cs.CL" and normalize_category("ML") == "stat.ML"
    assert normalize_category("hep-ph") == "hep-ph"
    assert detect_language("近年来,大语言模型展现出了优秀能力") == "zh"


def test_latex_letters_and_accents_as_bibtex_writes_them():
    # issue 13: these lost their letter ("Troels F. Rnnow", "ukasz Kaiser")
    assert latex_to_text(r"Troels F. R{\o}nnow") == "Troels F. Rønnow"
    assert latex_to_text(r"{\L}ukasz Kaiser") == "Łukasz Kaiser"
    assert latex_to_text(r"{\aa}ngstr{\"o}m, Stra{\ss}e, Pol{\'{\i}}tica") == "ångström, Straße, Política"
    assert latex_to_text(r"\k{a} \r{a} {\H o} {\v C}ech {\c c}") == "ą å ő Čech ç"


def test_inline_math_stays_readable():
    assert latex_to_text(r"$\nabla$-Reasoner") == "∇-Reasoner"
    assert latex_to_text(r"MAS$^2$ and $x^{-1}$") == "MAS² and x⁻¹"
    assert latex_to_text(r"$x_i$, $x_{ij}$ and $W_Q$") == "xᵢ, xᵢⱼ and W_Q"
    assert latex_to_text(r"gains of 11-77\%") == "gains of 11-77%"
    assert latex_to_text(r"\textbf{11^{\circ}} and $90^\circ$") == "11° and 90°"
    assert latex_to_text(r"see \href{https://x.org/a}{\textbf{our site}}") == "see our site (https://x.org/a)"
    assert latex_to_text(r"$\frac{a}{b}$ in $\mathbb{R}^n$") == "a/b in Rⁿ"


def test_biblatex_markup_does_not_leak():
    assert latex_to_text(r"\mkbibquote{Attention} is all\hyphen{}you need") == "“Attention” is all-you need"
    assert latex_to_text(r"methodology\hyphen independent, \mkbibquote{Intentionalit\"at}") == \
        "methodology-independent, “Intentionalität”"
    assert latex_to_text(r"radix-2\({}^{\mbox{k}}\) and the 5\({}^{\mbox{th}}\)") == "radix-2ᵏ and the 5ᵗʰ"
    assert latex_to_text(r"{\relax Ch}ebyshev and {\noopsort{a}}Zeta") == "Chebyshev and Zeta"


def test_hostile_latex_sends_little_to_the_library_converter(monkeypatch):
    import paperlens.core.clean as clean

    calls = []
    real = clean._converter.latex_to_text
    monkeypatch.setattr(clean._converter, "latex_to_text", lambda s, **kw: calls.append(s) or real(s, **kw))
    text = latex_to_text("\\frac{a}{b} " * 5000)
    assert len(calls) <= 32 and text.startswith("a/b a/b")
