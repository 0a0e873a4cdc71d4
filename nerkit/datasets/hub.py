"""Data sets of the Hugging Face Hub: ``hf:OWNER/NAME`` or ``hf:OWNER/NAME:CONFIG``.

The Hub converts every public data set to Parquet (its ``refs/convert/parquet``
revision: ``CONFIG/SPLIT/0000.parquet``, or ``CONFIG/NAME-SPLIT.parquet`` in older
conversions); those files are fetched with ``huggingface_hub`` (installed with
transformers) into its usual cache, so a data set fetched once loads offline too
(``HF_HUB_OFFLINE=1``). A repository without that revision is read from its own
Parquet files (its ``data/`` folder). The files are then read as any folder of split
files is, tokens and ``ner_tags`` with the ``ClassLabel`` names their metadata holds.
"""

from __future__ import annotations

from pathlib import Path

from nerkit.errors import DatasetError

PREFIX = "hf:"
PARQUET_REVISION = "refs/convert/parquet"


def parse(source: str) -> tuple[str, str | None]:
    """``(repo_id, config)`` of ``hf:OWNER/NAME[:CONFIG]``."""
    body = source[len(PREFIX) :]
    repo_id, _, config = body.partition(":")
    if not repo_id or repo_id.count("/") > 1 or repo_id.startswith("/") or repo_id.endswith("/"):
        raise DatasetError(
            f"{source!r}: a Hub data set is hf:OWNER/NAME or hf:OWNER/NAME:CONFIG "
            "(e.g. hf:tner/wnut2017)"
        )
    return repo_id, config or None


# ------------------------------------------------ the calls to huggingface_hub


def _list_files(repo_id: str, revision: str) -> list[str]:
    from huggingface_hub import list_repo_files

    return list_repo_files(repo_id, repo_type="dataset", revision=revision)


def _snapshot(
    repo_id: str, revision: str, patterns: list[str], *, local_only: bool = False
) -> Path:
    from huggingface_hub import snapshot_download

    return Path(
        snapshot_download(
            repo_id,
            repo_type="dataset",
            revision=revision,
            allow_patterns=patterns,
            local_files_only=local_only,
        )
    )


# ------------------------------------------------------------------ fetching


def _configs(files: list[str]) -> list[str]:
    return sorted({f.split("/")[0] for f in files if "/" in f and f.endswith(".parquet")})


def _pick(repo_id: str, config: str | None, configs: list[str]) -> str:
    if config is not None:
        if config not in configs:
            raise DatasetError(
                f"hf:{repo_id} has no config {config!r} (configs: {', '.join(configs)})"
            )
        return config
    if len(configs) == 1:
        return configs[0]
    if "default" in configs:
        return "default"
    raise DatasetError(
        f"hf:{repo_id} has several configs: name one, hf:{repo_id}:CONFIG "
        f"(configs: {', '.join(configs)})"
    )


def fetch(source: str, *, download: bool = True) -> Path:
    """The local folder of ``source``'s split files, fetched from the Hub if needed
    (with ``download`` false, only from the local cache)."""
    repo_id, config = parse(source)
    if not download:
        return _from_cache(repo_id, config, None)
    try:
        files = _list_files(repo_id, PARQUET_REVISION)
    except Exception as online_error:  # offline, unknown repository, no conversion
        return _fetch_otherwise(repo_id, config, online_error)
    configs = _configs(files)
    if not configs:
        return _fetch_otherwise(repo_id, config, None)
    chosen = _pick(repo_id, config, configs)
    root = _snapshot(repo_id, PARQUET_REVISION, [f"{chosen}/**"])
    return root / chosen


def _cached_conversion(repo_id: str, config: str | None) -> Path | None:
    try:
        root = _snapshot(repo_id, PARQUET_REVISION, ["*/**"], local_only=True)
    except Exception:  # not in the cache
        return None
    configs = [p.name for p in sorted(root.iterdir()) if p.is_dir()]
    if not configs or (config is not None and config not in configs):
        return None  # what the cache lacks may still be on the Hub
    return root / _pick(repo_id, config, configs)


def _from_cache(repo_id: str, config: str | None, online_error: Exception | None) -> Path:
    found = _cached_conversion(repo_id, config)
    if found is not None:
        return found
    raise DatasetError(
        f"hf:{repo_id}{':' + config if config else ''} is not in the local Hugging Face "
        f"cache{f' and cannot be fetched ({_reason(online_error)})' if online_error else ''}"
    )


def _fetch_otherwise(repo_id: str, config: str | None, online_error: Exception | None) -> Path:
    """From the local cache of the Parquet conversion (offline), else the repository's
    own Parquet files."""
    found = _cached_conversion(repo_id, config)
    if found is not None:
        return found
    if config is not None:
        raise DatasetError(
            f"hf:{repo_id}:{config}: a config is read from the Hub's Parquet conversion, "
            f"which cannot be fetched ({_reason(online_error)}) and is not in the local "
            "Hugging Face cache"
        )
    try:
        root = _snapshot(repo_id, "main", ["*.parquet", "**/*.parquet"])
    except Exception as exc:
        reason = _reason(online_error or exc)
        raise DatasetError(
            f"cannot fetch hf:{repo_id} from the Hugging Face Hub ({reason}), and it is not "
            "in the local Hugging Face cache; online, it is fetched once and then kept"
        ) from None
    return root


def _reason(error: Exception | None) -> str:
    if error is None:
        return "no Parquet files"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
