"""Default models of the built-in providers, importable without importing their SDKs (a replayed
run needs the name, not the 40 MB SDK)."""

DEFAULT_MODELS = {
    "openai": "gpt-5.4-mini",
    "anthropic": "claude-sonnet-4-6",
}
