"""Find or train the Rasa model for the current training data, keyed by its fingerprint.

Rasa's own fingerprint does not cover the jieba dictionary, and `rasa train` still spends time
loading TensorFlow to decide nothing changed; hashing the inputs ourselves makes `make run` and the
test suite reuse a model until config, domain, dictionary or training data change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from civil_affairs.config import PROJECT_ROOT, Settings

TRAINING_INPUTS = ("config.yml", "domain.yml", "nlu", "dialogue", "nlu_components")


def training_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """Every file that shapes the model, in a stable order."""
    files: list[Path] = []
    for name in TRAINING_INPUTS:
        path = root / name
        # The custom component's code shapes the model as its data does (not its __pycache__).
        found = (p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        files.extend(sorted(found) if path.is_dir() else [path])
    return files


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    """Hash of the training inputs and the Rasa version."""
    import rasa  # imported here: it is slow and only this function needs it

    digest = hashlib.sha256(f"rasa={rasa.__version__}".encode())
    for path in training_files(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_model(model_dir: Path, root: Path = PROJECT_ROOT) -> Path:
    """Path of the model for the current data, training it first when there is none."""
    name = f"civil-affairs-{fingerprint(root)}"
    model = model_dir / f"{name}.tar.gz"
    if model.is_file():
        return model
    model_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run(
        [
            str(Path(sys.executable).parent / "rasa"),
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            "nlu",
            "dialogue",
            "--out",
            str(model_dir),
            "--fixed-model-name",
            name,
        ],
        cwd=root,
        env=env,
        check=True,
    )
    if not model.is_file():
        raise RuntimeError(f"rasa train finished but {model} is missing")
    return model


def main() -> None:
    """Print the model path, training first if needed (`make train`)."""

    print(ensure_model(Settings.from_env().model_dir))


if __name__ == "__main__":
    main()
