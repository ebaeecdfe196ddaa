"""LLM enrichment through any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp, ...)."""
