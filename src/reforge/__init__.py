"""reforge: measure how well language models recover function names from stripped binaries.

The package is organised by pipeline stage: `reforge.corpus` builds programs,
`reforge.truth` reads their ground truth, `reforge.binary` decompiles the
stripped binaries, `reforge.join` joins both sides and assigns tiers,
`reforge.experiments` and `reforge.llm` ask models for names,
`reforge.scoring` and `reforge.report` evaluate the answers, and
`reforge.store` keeps everything in one database.
"""

__version__ = "0.1.0"
