"""Click-to-segment (Qt-free): prompts in, frozen masks out.

- types: Prompts, SegmentResult, the Segmenter protocol
- builtin: the weightless default; sam: SAM / MobileSAM sessions with an embedding cache
- checkpoints: recognise / import / verify / list SAM files; download: fetch official ones
- everything: region proposals without weights; factory.create_segmenter picks one
"""
from .types import Prompts, SegmentCancelled, Segmenter, SegmentResult

__all__ = ["Prompts", "SegmentResult", "Segmenter", "SegmentCancelled"]
