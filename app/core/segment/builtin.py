"""The built-in segmenter: no weights, works out of the box on black-and-white photos.

Method: SLIC superpixels and their neighbour graph (precomputed once per photo), then a
random walker with priors (Grady 2005) over that graph for each set of clicks: include and
exclude clicks are hard seeds, edge strength along shared boundaries sets how easily the
label flows between neighbours, and an appearance model (features of the clicked
superpixels versus the background evidence) pulls similar regions each way. With only
include clicks the photo's border serves as weak background evidence. The superpixel
answer is carried back to full size and its edge refined with a guided filter on the photo.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
import scipy.sparse as sp
from scipy.ndimage import label as cc_label
from scipy.sparse.linalg import spsolve

from .everything import superpixel_proposals
from .imageprep import image_key, to_gray01
from .superpixels import SuperpixelGraph, build_graph
from .types import CancelCheck, ProgressCallback, Prompts, SegmentCancelled, SegmentResult


# Logistic model of "these two neighbouring superpixels belong to different human segments",
# over superpixels.PAIR_FEATURES (bias first). Fitted by bench/segment_fit_boundaries.py on
# BSDS500 train photos 20-199, lightness only; photos 0-19 were kept apart for tuning.
BOUNDARY_COEF = (-1.1707, 0.9478, 0.186, 0.4161, -0.0214, 0.1168, 0.4327, 1.4206, -0.1472, -0.6434,
                 0.6318, -0.2985, 0.3952, 1.1404, 0.5321)


@dataclass(frozen=True)
class BuiltinParams:
    work_pixels: int = 200_000
    n_segments: int = 2500
    compactness: float = 0.08
    edge_beta: float = 3.0  # how strongly an edge between superpixels stops the label
    feature_beta: float = 0.15  # how strongly an appearance difference does
    length_power: float = 1.0  # neighbours with longer shared borders couple more
    appearance_gamma: float = 0.1  # weight of the appearance prior vs the graph
    appearance_sigma: float = 1.0
    border_weight: float = 0.05  # background pull on border superpixels with include clicks only
    keep_connected: bool = True  # drop islands not touching an include click
    refine_radius: int = 2
    method: str = "geodesic"  # "geodesic" (nearest click along the photo's edges) or "walker"
    boundary_power: float = 1.0  # > 1 lets weak outlines count for little, strong ones for a lot
    boundary_floor: float = 0.0
    background_everywhere: float = 0.0
    hop_cost: float = 0.05  # per-superpixel step, favours answers near the click
    border_offset: float = 1.0  # how far (in edge units) the border sits from the background


class BuiltinSegmenter:
    """Random walker over superpixels; see the module docstring."""

    name = "builtin"

    def __init__(self, params: BuiltinParams | None = None, cache_size: int = 4) -> None:
        self.params = params or BuiltinParams()
        self._cache: OrderedDict[str, SuperpixelGraph] = OrderedDict()
        self._cache_size = cache_size
        self._graph: SuperpixelGraph | None = None
        self._full_gray: np.ndarray | None = None

    # -- per photo ---------------------------------------------------------------------
    def set_image(self, image: np.ndarray, key: str | None = None,
                  progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
        key = key or image_key(image)
        gray = to_gray01(image)
        graph = self._cache.get(key)
        if graph is None:
            if progress:
                progress(0.0, "finding regions")
            if cancel and cancel():
                raise SegmentCancelled()
            p = self.params
            graph = build_graph(gray, p.work_pixels, p.n_segments, p.compactness)
            self._cache[key] = graph
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        self._graph, self._full_gray = graph, gray
        if progress:
            progress(1.0, "ready")

    def has_image(self, key: str) -> bool:
        return key in self._cache

    # -- per click ---------------------------------------------------------------------
    def segment(self, prompts: Prompts) -> SegmentResult:
        if self._graph is None or self._full_gray is None:
            raise RuntimeError("call set_image before segment")
        t0 = time.perf_counter()
        g = self._graph
        H, W = g.full_shape
        if prompts.is_empty:
            mask = np.zeros((H, W), dtype=bool)
            return SegmentResult((mask,), (0.0,), 0, self.name, time.perf_counter() - t0, prompts)
        method = {"geodesic": self._geodesic, "watershed": self._watershed}.get(self.params.method, self._solve)
        prob = method(prompts)
        small = prob[g.labels]
        small = self._split_conflicts(small, prompts)
        mask = self._to_full(small, prompts)
        score = float(np.mean(np.abs(prob - 0.5)) * 2.0)  # confidence: how decisive the walk was
        return SegmentResult((mask,), (score,), 0, self.name, time.perf_counter() - t0, prompts)

    def everything(self, cancel: CancelCheck | None = None) -> list[np.ndarray]:
        if self._full_gray is None:
            raise RuntimeError("call set_image before everything")
        return superpixel_proposals(self._full_gray, cancel=cancel)

    # -- internals ---------------------------------------------------------------------
    def _node_of(self, pts: tuple[tuple[float, float], ...]) -> np.ndarray:
        g = self._graph
        assert g is not None
        h, w = g.labels.shape
        out = []
        for x, y in pts:
            c = min(max(int(x * g.scale), 0), w - 1)
            r = min(max(int(y * g.scale), 0), h - 1)
            out.append(g.labels[r, c])
        return np.asarray(out, dtype=np.int64)

    def _boundary(self) -> np.ndarray:
        """Probability that each neighbour pair is split by a real outline."""
        g = self._graph
        assert g is not None
        coef = np.asarray(BOUNDARY_COEF)
        z = coef[0] + g.pair_features.astype(np.float64) @ coef[1:]
        return 1.0 / (1.0 + np.exp(-z))

    def _weights(self) -> np.ndarray:
        g, p = self._graph, self.params
        assert g is not None
        length = (g.pair_length / max(float(np.median(g.pair_length)), 1.0)) ** p.length_power
        return (length * np.exp(-p.edge_beta * self._boundary())).astype(np.float64)

    def _solve(self, prompts: Prompts) -> np.ndarray:
        g, p = self._graph, self.params
        assert g is not None
        n = g.n
        seeds = np.full(n, -1.0)
        # later clicks win over earlier ones on the same superpixel (the user is correcting)
        ordered = [(pt, 1.0) for pt in prompts.include] + [(pt, 0.0) for pt in prompts.exclude]
        for node, val in zip(self._node_of(tuple(pt for pt, _ in ordered)), (v for _, v in ordered)):
            seeds[node] = val
        bg_soft = np.zeros(n)
        if prompts.box is not None:
            x0, y0, x1, y1 = (v * g.scale for v in prompts.box)
            cx, cy = g.centroid[:, 0], g.centroid[:, 1]
            outside = (cx < x0) | (cx > x1) | (cy < y0) | (cy > y1)
            seeds[outside & (seeds < 0)] = 0.0
            if not prompts.include:
                # a box alone: its centre region is taken as the object's evidence
                bx, by, rw, rh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 6 + 1, (y1 - y0) / 6 + 1
                centre = (np.abs(cx - bx) < rw) & (np.abs(cy - by) < rh) & (seeds < 0)
                if not centre.any():
                    centre = np.zeros(n, dtype=bool)
                    centre[self._node_of(((bx / g.scale, by / g.scale),))] = True
                seeds[centre] = 1.0
        elif not prompts.exclude:
            bg_soft[g.border] = p.border_weight

        fg_idx = np.flatnonzero(seeds == 1.0)
        bg_idx = np.flatnonzero(seeds == 0.0)
        bg_samples = bg_idx if bg_idx.size else np.flatnonzero(g.border)
        prior = self._appearance(fg_idx, bg_samples)
        gamma = np.full(n, p.appearance_gamma) if fg_idx.size else np.zeros(n)

        w = self._weights()
        i, j = g.pairs[:, 0], g.pairs[:, 1]
        A = sp.coo_matrix((np.concatenate([-w, -w]), (np.concatenate([i, j]), np.concatenate([j, i]))),
                          shape=(n, n)).tocsr()
        deg = np.asarray(-A.sum(axis=1)).ravel()
        lap = A + sp.diags(deg)
        free = seeds < 0
        x = seeds.copy()
        if free.any():
            fixed = ~free
            Luu = lap[free][:, free] + sp.diags(gamma[free] + bg_soft[free] + 1e-9)
            rhs = gamma[free] * prior[free]
            if fixed.any():
                rhs = rhs - lap[free][:, fixed] @ seeds[fixed]
            x[free] = spsolve(Luu.tocsc(), rhs)
        x = np.clip(x, 0.0, 1.0)
        if p.keep_connected and fg_idx.size:
            x = self._drop_islands(x, fg_idx)
        return x

    def _geodesic(self, prompts: Prompts) -> np.ndarray:
        """Each superpixel joins the nearest seed, distance measured along the photo: crossing
        an edge or a change of texture costs, so a label floods a region up to its outline."""
        from scipy.sparse.csgraph import dijkstra

        g, p = self._graph, self.params
        assert g is not None
        n = g.n
        i, j = g.pairs[:, 0], g.pairs[:, 1]
        # outlines weaker than boundary_floor (texture, grain) cost nothing to cross, so a label
        # is not stopped by the sum of many small ones inside a textured region
        b = np.clip((self._boundary() - p.boundary_floor) / (1.0 - p.boundary_floor), 0.0, 1.0)
        cost = p.edge_beta * b ** p.boundary_power + p.hop_cost
        F, B = n, n + 1  # virtual sources: object and background
        src = [i, j]
        dst = [j, i]
        wts = [cost, cost]
        inc, exc = self._node_of(prompts.include), self._node_of(prompts.exclude)
        # the later of two clicks on one superpixel wins
        last = {}
        for nd in inc:
            last[int(nd)] = 1
        order = [(int(nd), 1) for nd in inc] + [(int(nd), 0) for nd in exc]
        for nd, v in order:
            last[nd] = v
        fg = np.asarray([k for k, v in last.items() if v == 1], dtype=np.int64)
        bg = np.asarray([k for k, v in last.items() if v == 0], dtype=np.int64)
        bg_off = np.zeros(bg.size)
        if prompts.box is not None:
            x0, y0, x1, y1 = (v * g.scale for v in prompts.box)
            cx, cy = g.centroid[:, 0], g.centroid[:, 1]
            outside = np.flatnonzero((cx < x0) | (cx > x1) | (cy < y0) | (cy > y1))
            bg = np.concatenate([bg, outside]); bg_off = np.concatenate([bg_off, np.zeros(outside.size)])
            if fg.size == 0:
                fg = self._node_of((((x0 + x1) / 2 / g.scale, (y0 + y1) / 2 / g.scale),))
        else:
            border = np.flatnonzero(g.border)
            bg = np.concatenate([bg, border]); bg_off = np.concatenate([bg_off, np.full(border.size, p.border_offset)])
        # what background looks like: exclude clicks plus the border (or outside the box)
        bg_samples = np.unique(bg)
        if p.background_everywhere > 0:
            # anything farther than this from every include click is background
            allnodes = np.arange(n)
            bg = np.concatenate([bg, allnodes]); bg_off = np.concatenate([bg_off, np.full(n, p.background_everywhere)])
        # one edge per background node at its smallest offset (a sparse matrix would add duplicates)
        best = np.full(n, np.inf)
        np.minimum.at(best, bg, bg_off)
        best[fg] = np.inf  # an include click is never background
        bg_nodes = np.flatnonzero(np.isfinite(best))
        src += [np.full(fg.size, F), np.full(bg_nodes.size, B)]
        dst += [fg, bg_nodes]
        wts += [np.full(fg.size, 1e-6), best[bg_nodes] + 1e-6]
        G = sp.csr_matrix((np.concatenate(wts), (np.concatenate(src), np.concatenate(dst))), shape=(n + 2, n + 2))
        d = dijkstra(G, directed=True, indices=[F, B])
        df, db = d[0, :n], d[1, :n]
        if fg.size == 0:
            return np.zeros(n)
        margin = db - df
        if p.appearance_gamma > 0:
            # similar-looking regions lean towards the clicks they resemble
            kf, kb = self._densities(fg, bg_samples)
            margin = margin + p.appearance_gamma * (np.log(kf + 1e-6) - np.log(kb + 1e-6))
        # soft answer for the guided-filter refinement: 0.5 where the two fronts meet
        x = 1.0 / (1.0 + np.exp(np.clip(-margin * 8.0, -50, 50)))
        x[fg] = 1.0
        x[np.setdiff1d(bg[bg_off == 0], fg)] = 0.0
        return x

    def _seed_nodes(self, prompts: Prompts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(object seeds, hard background seeds, soft background seeds) as superpixel ids."""
        g = self._graph
        assert g is not None
        last: dict[int, int] = {}
        # the later of two clicks on one superpixel wins (the user is correcting)
        for nd, v in [(int(n), 1) for n in self._node_of(prompts.include)] + \
                     [(int(n), 0) for n in self._node_of(prompts.exclude)]:
            last[nd] = v
        fg = np.asarray([k for k, v in last.items() if v == 1], dtype=np.int64)
        bg = np.asarray([k for k, v in last.items() if v == 0], dtype=np.int64)
        soft = np.zeros(0, dtype=np.int64)
        if prompts.box is not None:
            x0, y0, x1, y1 = (v * g.scale for v in prompts.box)
            cx, cy = g.centroid[:, 0], g.centroid[:, 1]
            outside = np.flatnonzero((cx < x0) | (cx > x1) | (cy < y0) | (cy > y1))
            bg = np.union1d(bg, np.setdiff1d(outside, fg))
            if fg.size == 0:
                fg = self._node_of((((x0 + x1) / 2 / g.scale, (y0 + y1) / 2 / g.scale),))
        else:
            soft = np.setdiff1d(np.flatnonzero(g.border), np.union1d(fg, bg))
        return fg, bg, soft

    def _watershed(self, prompts: Prompts) -> np.ndarray:
        """Seeded minimum-spanning-forest cut (power watershed, q -> infinity): neighbours are
        joined weakest outline first; a region joins a click's label unless it is only
        reachable across an outline stronger than the one separating it from the other label.
        The photo's border is background joined at strength ``border_offset``."""
        g, p = self._graph, self.params
        assert g is not None
        n = g.n
        fg, bg, soft = self._seed_nodes(prompts)
        if fg.size == 0:
            return np.zeros(n)
        b = self._boundary()
        if p.appearance_gamma > 0:
            kf, kb = self._densities(fg, bg if bg.size else soft)
        FG, BG = n, n + 1
        ea = np.concatenate([g.pairs[:, 0], soft])
        eb = np.concatenate([g.pairs[:, 1], np.full(soft.size, BG)])
        ew = np.concatenate([b, np.full(soft.size, p.border_offset)])
        parent = np.arange(n + 2)
        label = np.full(n + 2, -1)
        label[FG], label[BG] = 1, 0
        for nd in fg:
            parent[nd] = FG
        for nd in bg:
            parent[nd] = BG

        def find(x: int) -> int:
            root = x
            while parent[root] != root:
                root = parent[root]
            while parent[x] != root:
                parent[x], x = root, parent[x]
            return root

        for k in np.argsort(ew, kind="stable"):
            ra, rb = find(int(ea[k])), find(int(eb[k]))
            if ra == rb:
                continue
            la, lb = label[ra], label[rb]
            if la >= 0 and lb >= 0 and la != lb:
                continue  # the cut between object and background runs along this outline
            if la < 0:
                parent[ra] = rb
            else:
                parent[rb] = ra
        roots = np.array([find(i) for i in range(n)])
        x = (label[roots] == 1).astype(np.float64)
        return x

    def _densities(self, fg: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g, p = self._graph, self.params
        assert g is not None
        f = g.features

        def density(idx: np.ndarray) -> np.ndarray:
            if idx.size == 0:
                return np.full(g.n, 1e-3)
            d2 = ((f[:, None, :] - f[None, idx, :]) ** 2).sum(axis=2)
            return np.exp(-d2 / (2 * p.appearance_sigma ** 2)).mean(axis=1)

        return density(fg), density(bg)

    def _appearance(self, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
        """P(object) per superpixel from kernel densities of the seeds' features."""
        g, p = self._graph, self.params
        assert g is not None
        if fg.size == 0:
            return np.zeros(g.n)
        f = g.features

        def density(idx: np.ndarray) -> np.ndarray:
            d2 = ((f[:, None, :] - f[None, idx, :]) ** 2).sum(axis=2)
            return np.exp(-d2 / (2 * p.appearance_sigma ** 2)).mean(axis=1)

        kf, kb = density(fg), density(bg) if bg.size else np.full(g.n, 1e-3)
        return kf / (kf + kb + 1e-9)

    def _drop_islands(self, x: np.ndarray, fg: np.ndarray) -> np.ndarray:
        """Keep only object superpixels connected (through object superpixels) to an include."""
        g = self._graph
        assert g is not None
        on = x > 0.5
        i, j = g.pairs[:, 0], g.pairs[:, 1]
        keep = on[i] & on[j]
        adj = sp.coo_matrix((np.ones(int(keep.sum())), (i[keep], j[keep])), shape=(g.n, g.n))
        from scipy.sparse.csgraph import connected_components

        _, comp = connected_components(adj, directed=False)
        good = np.isin(comp, comp[fg[on[fg]]])
        out = x.copy()
        out[on & ~good] = np.minimum(out[on & ~good], 0.49)
        return out

    def _split_conflicts(self, small: np.ndarray, prompts: Prompts) -> np.ndarray:
        """Inside a superpixel holding both include and exclude clicks, each pixel takes the
        label of the nearest such click, so every click changes the answer where it lands."""
        g = self._graph
        assert g is not None
        inc, exc = self._node_of(prompts.include), self._node_of(prompts.exclude)
        both = np.intersect1d(inc, exc)
        if both.size == 0:
            return small
        small = small.copy()
        for node in both:
            rr, cc = np.nonzero(g.labels == node)
            pts = [(x * g.scale, y * g.scale, 1.0) for (x, y), nd in zip(prompts.include, inc) if nd == node]
            pts += [(x * g.scale, y * g.scale, 0.0) for (x, y), nd in zip(prompts.exclude, exc) if nd == node]
            arr = np.asarray(pts)
            d = (cc[:, None] - arr[None, :, 0]) ** 2 + (rr[:, None] - arr[None, :, 1]) ** 2
            small[rr, cc] = arr[np.argmin(d, axis=1), 2]
        return small

    def _to_full(self, small: np.ndarray, prompts: Prompts) -> np.ndarray:
        g, p = self._graph, self.params
        assert g is not None and self._full_gray is not None
        H, W = g.full_shape
        small = small.astype(np.float32)
        if p.refine_radius > 0:
            # edge-aware smoothing of the superpixel answer snaps it to the photo's edges
            gf = getattr(cv2, "ximgproc", None)
            small = _guided_filter(g.gray, small, p.refine_radius, 1e-3) if gf is None else \
                gf.guidedFilter(g.gray, small, p.refine_radius, 1e-3)
        if (H, W) != small.shape:
            small = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
        mask = small > 0.5
        # a click always wins at the pixel it was made on
        for (x, y), val in [(pt, True) for pt in prompts.include] + [(pt, False) for pt in prompts.exclude]:
            r, c = min(max(int(y), 0), H - 1), min(max(int(x), 0), W - 1)
            mask[r, c] = val
        return mask


def _guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al. guided filter (grey guide) with box means; small and dependency-free."""
    k = (2 * r + 1, 2 * r + 1)
    mean = lambda a: cv2.boxFilter(a, cv2.CV_32F, k)  # noqa: E731
    mi, ms = mean(guide), mean(src)
    cov = mean(guide * src) - mi * ms
    var = mean(guide * guide) - mi * mi
    a = cov / (var + eps)
    b = ms - a * mi
    return mean(a) * guide + mean(b)


def keep_component_with(mask: np.ndarray, points: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Connected parts of ``mask`` that contain one of ``points`` (x, y)."""
    lab, _ = cc_label(mask)
    ids = {int(lab[int(y), int(x)]) for x, y in points
           if 0 <= int(y) < mask.shape[0] and 0 <= int(x) < mask.shape[1]}
    ids.discard(0)
    return np.isin(lab, list(ids)) if ids else mask
