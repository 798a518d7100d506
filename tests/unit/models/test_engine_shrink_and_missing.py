"""The out-of-memory retry keeps every setting; a model without weights says so in one sentence."""
from __future__ import annotations

import numpy as np
import pytest

from models.engine import shrink_request
from models.types import ColorizeRequest, ModelError


def test_shrink_request_keeps_the_hint_reach_and_everything_else():
    L = np.linspace(0, 100, 40 * 60, dtype=np.float32).reshape(40, 60)
    hm = np.zeros((40, 60), np.float32)
    hm[10:14, 10:14] = 1
    hab = np.zeros((40, 60, 2), np.float32)
    hab[hm > 0] = (30, -20)
    req = ColorizeRequest(L=L, mask=np.ones_like(L), hint_ab=hab, hint_mask=hm, model="maskgan", device="cpu",
                          reference_L=L[:10, :10].copy(), hint_reach=0.8)
    small = shrink_request(req, 0.5)
    assert small.L.shape == (20, 30)
    assert (small.hint_reach, small.model, small.device, small.id) == (0.8, "maskgan", "cpu", req.id)
    assert small.reference_L is not None and np.allclose(small.hint_ab[small.hint_mask > 0], (30, -20), atol=1e-3)


def test_iizuka_without_weights_is_one_sentence(monkeypatch, tmp_path):
    import models.checkpoint as ck
    from models.iizuka import load_iizuka

    monkeypatch.setattr(ck, "candidate_weights", lambda *a, **k: [])
    with pytest.raises(ModelError) as e:
        load_iizuka()
    assert "iizuka" in str(e.value) and "\n" not in str(e.value)


def test_one_user_error_base_and_one_cancel():
    from app.core.errors import ExportError, HuebrushError
    from app.core.segment.download import DownloadCancelled
    from app.core.segment.types import SegmentCancelled
    from models.types import Cancelled, UserError

    assert issubclass(HuebrushError, UserError) and issubclass(ModelError, UserError) and issubclass(ExportError, UserError)
    assert issubclass(SegmentCancelled, Cancelled) and issubclass(DownloadCancelled, Cancelled)

