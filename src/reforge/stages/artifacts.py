"""Check that a build's binary on disk is the one the build stage recorded.

The truth stage reads the debug binary and the analysis stage the stripped
one. Both must be the files the build produced together, or ground truth would
describe other code than the model is shown. The build stage records the sha256
of both files; a stage refuses a file that is missing or has another digest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from reforge.errors import StaleArtifactError


def verify_artifact(
    path: str | None,
    recorded_sha256: str | None,
    *,
    program: str,
    opt: str,
    variant: str,
    kind: str,
) -> Path:
    """Return `path` after checking that it exists and has the recorded sha256.

    `kind` names the file in messages ("debug binary", "stripped binary").
    Raises `StaleArtifactError` naming the file and the rebuild command.
    """
    rebuild = f"reforge corpus build {program} --opt {opt}" + (" --pie" if variant == "pie" else "")
    if not path or not recorded_sha256:
        raise StaleArtifactError(
            f"{program} {opt} ({variant}) has no recorded {kind}; run `{rebuild}` first"
        )
    artifact = Path(path)
    try:
        with artifact.open("rb") as handle:
            actual = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise StaleArtifactError(
            f"cannot read the {kind} {artifact} of {program} {opt}: {exc.strerror or exc}; "
            f"run `{rebuild}` to rebuild it"
        ) from exc
    if actual != recorded_sha256:
        raise StaleArtifactError(
            f"the {kind} {artifact} of {program} {opt} changed after it was built "
            f"(sha256 {actual[:16]}..., the build recorded {recorded_sha256[:16]}...); "
            f"run `{rebuild}` to rebuild it"
        )
    return artifact
