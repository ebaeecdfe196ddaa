"""paperlens' own enrichment steps, embedders and LLM clients, registered like any plugin's (docs/plugins.md).

Each hook imports its modules when it is first called, so looking up an embedder does not load every step."""

from __future__ import annotations

from paperlens.core.plugins import hookimpl


@hookimpl
def register_steps():
    from paperlens.enrich.steps import digest, embed, keywords, title, topic

    steps = [digest.DigestStep, digest.TldrStep, embed.EmbedStep, keywords.KeywordsStep, title.TitleStep,
             topic.TopicStep]
    import importlib.util

    if importlib.util.find_spec("openai") is not None:  # the LLM step needs the SDK (imported when it runs)
        from paperlens.enrich.llm import step as llm_step

        steps.append(llm_step.LLMSummaryStep)
    return steps


@hookimpl
def register_embedders():
    from paperlens.enrich.models.embed import MiniLMEmbedder, StaticEmbedder

    return {"static": StaticEmbedder, "minilm": MiniLMEmbedder}


@hookimpl
def register_llm_clients():
    from paperlens.enrich.llm.client import DigestClient

    return {"openai": DigestClient}
