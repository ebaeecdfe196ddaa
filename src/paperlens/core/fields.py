"""The structured-summary fields, apart from the pydantic models (core/models.py re-exports them), so that
modules that only name them import no pydantic."""

SUMMARY_FIELDS = ("motivation", "problem", "observation", "method", "experiments", "contribution")

# Icons and Chinese labels of the six structured fields, as in the 002 digest.
SUMMARY_LABELS = {
    "motivation": ("🎯", "研究动机", "Motivation"),
    "problem": ("❓", "解决问题", "Problem"),
    "observation": ("🔍", "现象分析", "Observation"),
    "method": ("🛠️", "主要方法", "Method"),
    "experiments": ("📊", "数据与实验", "Data & experiments"),
    "contribution": ("⭐", "主要贡献", "Contributions"),
}
