"""Language-model side of reforge: prompts, providers, the runner and reply parsing."""
