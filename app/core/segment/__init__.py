"""Click-to-segment: prompts in, masks out (Qt-free). See builtin.py, sam.py, checkpoints.py."""
from .types import Prompts, SegmentCancelled, SegmentResult, Segmenter

__all__ = ["Prompts", "SegmentResult", "Segmenter", "SegmentCancelled"]
