"""Record types and their IO. Depends on nothing else in pnlc."""

from pnlc.data.jsonl import (
    CorruptRecordError,
    append_jsonl,
    atomic_path,
    atomic_write_text,
    count_complete,
    read_jsonl,
    save_npz,
    truncate_incomplete,
    write_jsonl,
)
from pnlc.data.records import (
    SCHEMA_VERSION,
    Annotation,
    Episode,
    RecordError,
    Step,
    Usage,
    annotation_from_dict,
    episode_from_dict,
    episode_id,
    to_dict,
)

__all__ = [
    "SCHEMA_VERSION",
    "Annotation",
    "CorruptRecordError",
    "Episode",
    "RecordError",
    "Step",
    "Usage",
    "annotation_from_dict",
    "append_jsonl",
    "atomic_path",
    "atomic_write_text",
    "count_complete",
    "episode_from_dict",
    "episode_id",
    "read_jsonl",
    "save_npz",
    "to_dict",
    "truncate_incomplete",
    "write_jsonl",
]
