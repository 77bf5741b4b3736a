"""Generated training files for the Data pane's tests: valid chat examples and planted problems
at known lines."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "ru", "sa", "to") for b in "aeiouxyz"]
EMAIL = "jane.doe@example.com"


def sentence(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(count))


def chat(user: str, answer: str) -> dict[str, object]:
    return {
        "messages": [
            {"role": "user", "content": user},
            {"role": "assistant", "content": answer},
        ]
    }


def training_file(folder: Path, examples: int = 40, seed: int = 3) -> tuple[Path, dict[str, int]]:
    """A chat file with known problems; returns it and the line of each planted problem."""
    rng = random.Random(seed)
    lines = [json.dumps(chat(sentence(rng, 20), sentence(rng, 25))) for _ in range(examples)]
    planted = {}
    lines.insert(9, '{"messages": [ broken')
    planted["invalid_json"] = 10
    lines.insert(14, json.dumps(chat(f"Mail {EMAIL} about it " + sentence(rng, 8), "Done.")))
    planted["email"] = 15
    lines.insert(19, lines[2])
    planted["exact_duplicate"] = 20
    unknown = {
        "messages": [{"role": "bot", "content": "hi"}, {"role": "assistant", "content": "x"}]
    }
    lines.insert(24, json.dumps(unknown))
    planted["unknown_role"] = 25
    path = folder / "train.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, planted
