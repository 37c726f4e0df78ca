"""The bundled sample corpus: one page of 工人日报, ingested on first run so a newcomer can ask at once."""

from pathlib import Path

__all__ = ["sample_paths"]


def sample_paths() -> list[Path]:
    """The sample files shipped with newsbot."""
    return sorted(Path(__file__).parent.glob("*.txt"))
