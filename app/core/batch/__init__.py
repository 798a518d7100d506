"""Batch export: many photos, each with its own mask and hints, through one model.

job             what to colourize and how (``BatchJob``: ``plan()`` says, ``run()`` does)
plan            which photos, their outputs and what is skipped, before any work
runner          the threads: decode and encode beside inference, one photo after another
project_source  a photo's saved project (or a shared one) as its mask, hints and settings
report          what happened to each photo (JSON, rewritten after every photo), progress
dist            several processes (torchrun): shares of the plan, reports merged by rank 0
"""
from __future__ import annotations

from .job import BatchJob
from .plan import BatchError
from .report import BatchProgress, BatchReport, PhotoRecord

__all__ = ["BatchJob", "BatchError", "BatchProgress", "BatchReport", "PhotoRecord"]
