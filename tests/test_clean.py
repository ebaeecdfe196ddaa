from paperlens.clean import detect_language, find_code_url, latex_to_text
from paperlens.ids import normalize_arxiv_id, normalize_category


def test_latex_markup_becomes_text():
    assert latex_to_text(r"we propose \textbf{ARM} (\textbf{A}ctivation)") == "we propose ARM (Activation)"
    assert latex_to_text(r"from 14.4\% to 3.6\%") == "from 14.4% to 3.6%"
    assert latex_to_text(r"\textit{\textbf{Nested}} and \texttt{code} and \textsc{Sc}") == "Nested and code and Sc"
    assert latex_to_text(r"see \href{https://x.org/a}{our site}") == "see our site (https://x.org/a)"
    assert latex_to_text(r"Code\footnote{https://github.com/a/b}.") == "Code (https://github.com/a/b)."
    assert latex_to_text(r"with $\epsilon=0$ and $6\times$") == "with ε=0 and 6×"
    assert latex_to_text(r"rate $\tilde{\mathcal{O}}(T^{2/3})$") == "rate O(T^(2/3))"
    assert latex_to_text(r"\name~ works", placeholder="H2Rec") == "H2Rec works"


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
