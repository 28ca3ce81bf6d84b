"""Duplicates: exact copies of a sound, name collisions, and near-duplicates.

Exact: presets of one format whose sound data (``Preset.sound_key``: everything but name and
metadata) hashes the same. Near: presets whose numeric parameters, each scaled to its range
(the loader's bounds, else the range seen in the library), differ by a root-mean-square
distance of at most ``threshold``; the distance is averaged over every numeric parameter the
format's presets have, so 0.02 means "2% of each parameter's range on average".

It scales without an all-pairs loop in Python: vectors are sorted by their projection on the
main principal axis, and a pair can only be within ``r`` if the projections are (a projection
on a unit vector never lengthens a difference). Blocks of rows are compared with one matrix
product each against only the rows inside that window, so the work is exact and vectorized;
libraries whose presets spread out are pruned the most.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from presetctl.engine.stats.common import presets_of, table
from presetctl.engine.stats.model import FileFacts, PresetFacts, Section, StatsContext
from presetctl.engine.stats.params import ParamMatrix, raw_matrix

F64 = npt.NDArray[np.float64]
BLOCK = 1024  # rows compared per matrix product: 1024 x window floats stays a few MB
WINDOW = 512  # rows of the window each product takes at most (1024 x 512 doubles: 4 MB a temporary)
DIAMETER_MAX = 2000  # clusters up to this size get their exact largest distance (m x m floats)
SAMPLE_FOR_AXIS = 4096  # rows used to find the principal axes
PROJECTED_AXES = 8  # pruning dimensions: cheap to compare, and enough to separate most pairs
DENSE_SHARE = 0.05  # above this share of surviving pairs in a block, compare the block in full
NANMEDIAN_SMALL = 600  # below this many rows np.nanmedian(axis=0) uses masked arrays, above it each column's median
EXACT_BATCH = 1024  # candidate pairs checked at once (each costs rows of parameters: 4 x 1024 x 400 doubles, 13 MB)


def exact_groups(presets: Sequence[PresetFacts]) -> list[list[str]]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in presets:
        if p.sound_hash:
            groups[(p.format, p.sound_hash)].append(p.ref)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def name_collisions(presets: Sequence[PresetFacts]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[PresetFacts]] = defaultdict(list)
    for p in presets:
        if p.name and p.name.strip():
            groups[(p.format, p.name.strip().casefold())].append(p)
    out: list[dict[str, Any]] = [{"name": g[0].name, "format": fmt, "paths": sorted(p.ref for p in g)}
                                 for (fmt, _), g in groups.items() if len(g) > 1]
    return sorted(out, key=lambda o: (o["format"], o["paths"][0]))


def feature_matrix(presets: Sequence[PresetFacts]) -> F64:
    """Rows of parameters scaled to [0, 1] over the union of the presets' parameter names."""
    return scaled_features(raw_matrix(presets))


def scaled_features(m: ParamMatrix) -> F64:
    """``m.values`` scaled to [0, 1] in place (the matrix is built for this alone; each step used to
    copy all of it, 64 MB for 20,000 presets of 400 parameters) and returned."""
    x = m.values
    with np.errstate(all="ignore"):
        # The smallest and largest value each column holds (NaN left out; none: +inf and -inf).
        seen_lo = np.fmin.reduce(x, axis=0, initial=np.inf)
        seen_hi = np.fmax.reduce(x, axis=0, initial=-np.inf)
        # Unknown, infinite or inverted bounds: use what the library holds.
        bad = ~(np.isfinite(m.minimum) & np.isfinite(m.maximum) & (m.maximum > m.minimum))
        lo = np.where(bad, seen_lo, m.minimum)
        hi = np.where(bad, seen_hi, m.maximum)
        # Halves: the span of two finite doubles never overflows (1e308 - -1e308 would).
        half_lo = lo / 2
        span = np.where(hi > lo, hi / 2 - half_lo, 1.0)
        # A sum is NaN when any value is (or when infinities cancel): only then is the mask of missing
        # values made, 8 MB that would otherwise sit beside the matrix at the section's peak.
        if np.isnan(np.sum(x)):
            missing = np.isnan(x)
            if missing.any():
                # A missing parameter sounds like its default; unknown defaults take the library's median.
                fill = np.where(np.isnan(m.default), _column_medians(x, missing), m.default)
                np.copyto(x, np.broadcast_to(fill, x.shape), where=missing)
            del missing
        # The same operations as ``clip((x / 2 - half_lo) / span, 0, 1)``, on x itself.
        np.divide(x, 2, out=x)
        np.subtract(x, half_lo, out=x)
        np.divide(x, span, out=x)
        np.clip(x, 0.0, 1.0, out=x)
    return np.nan_to_num(x, copy=False, nan=0.0)


def _column_medians(x: F64, missing: npt.NDArray[np.bool_]) -> F64:
    """``np.nanmedian(x, axis=0)`` one column at a time (nanmedian copies the whole matrix); NaN for a
    column with no value, as nanmedian gives."""
    if x.shape[0] < NANMEDIAN_SMALL:  # numpy takes a masked-array path there (another rounding): use it
        return np.asarray(np.nanmedian(x, axis=0), dtype=np.float64)
    out = np.full(x.shape[1], np.nan)
    for j in range(x.shape[1]):
        col = x[:, j]
        held = col[~missing[:, j]] if missing[:, j].any() else col
        if held.size:
            out[j] = np.median(held)
    return out


def principal_axes(centered: F64, k: int, rounds: int = 12) -> F64:
    """Orthonormal columns spanning (roughly) the k directions along which the rows spread most.

    Subspace iteration: a few matrix products, where a full SVD of a wide matrix costs seconds.
    Any orthonormal columns keep the pruning exact; good ones only make it prune more.
    """
    rng = np.random.default_rng(0)  # fixed seed: same input, same order, same output
    v = np.linalg.qr(rng.standard_normal((centered.shape[1], k)))[0]
    for _ in range(rounds):
        w = centered.T @ (centered @ v)
        if not np.isfinite(w).all() or not w.any():
            break
        v = np.linalg.qr(w)[0]
    return np.asarray(v, dtype=np.float64)


def _pairs_below(d2: F64, bound: float, a: int, c: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Pairs (row a + i, row c + j), i < j as rows, whose entry of ``d2`` is within ``bound``."""
    ii, jj = np.nonzero(d2 <= bound)
    ii, jj = ii + a, jj + c
    keep = jj > ii
    return ii[keep], jj[keep]


def close_pairs(x: F64, radius: float) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], F64]:
    """All pairs (i < j) of rows with Euclidean distance <= radius, and their distances.

    Rows are projected on k orthonormal axes (k <= 8): a projection never lengthens a
    difference, so only pairs whose projections lie within ``radius`` can qualify. Sorting by
    the first axis bounds the rows each block must look at; the k-dimensional projected distance
    prunes the rest; survivors are checked on every parameter. Where most pairs of a block
    survive (a library of near-identical sounds), one float32 product over the block is cheaper.
    """
    n, width = x.shape
    empty = np.zeros(0, dtype=np.intp)
    if n < 2 or width == 0:
        return empty, empty, np.zeros(0)
    mean = x.mean(axis=0)
    k = min(PROJECTED_AXES, width, n)
    axes = principal_axes(x[:: max(1, n // SAMPLE_FOR_AXIS)] - mean, k)
    # Blocks of rows: a centred copy (or a sorted float64 one) of the whole matrix would double the
    # section's memory for 20,000 presets of 400 parameters.
    proj = np.empty((n, k))
    for a in range(0, n, EXACT_BATCH):
        proj[a : a + EXACT_BATCH] = (x[a : a + EXACT_BATCH] - mean) @ axes
    order = np.argsort(proj[:, 0], kind="stable")
    p = np.ascontiguousarray(proj[order])
    key = p[:, 0]
    psq = np.einsum("ij,ij->i", p, p)


    def rows32(a: int, b: int) -> npt.NDArray[np.float32]:
        """Rows a..b in sorted order as float32, made when a dense block needs them (a float32
        copy of the whole matrix cost 32 MB for 20,000 presets of 400 parameters)."""
        return x[order[a:b]].astype(np.float32)

    sq = np.empty(n)
    for a in range(0, n, EXACT_BATCH):
        xs = rows32(a, a + EXACT_BATCH)
        sq[a : a + EXACT_BATCH] = np.einsum("ij,ij->i", xs, xs, dtype=np.float64)
    r2 = radius * radius
    loose_p = r2 * (1 + 1e-9) + 1e-9  # float64 rounding of the projected distances
    loose = r2 * 1.0001 + 1e-3  # float32 products: rounding passes; survivors are checked in float64
    found_i: list[npt.NDArray[np.intp]] = []
    found_j: list[npt.NDArray[np.intp]] = []
    for a in range(0, n, BLOCK):
        b = min(n, a + BLOCK)
        end = int(np.searchsorted(key, key[b - 1] + radius, side="right"))
        # The window in slices of WINDOW rows: a block against all 20,000 rows of a library whose
        # sounds sit close together made temporaries of 160 MB each. Every slice finds the same pairs.
        for c in range(a, end, WINDOW):
            e = min(end, c + WINDOW)
            ii, jj = _pairs_below(psq[a:b, None] + psq[None, c:e] - 2.0 * (p[a:b] @ p[c:e].T), loose_p, a, c)
            if len(ii) > DENSE_SHARE * (b - a) * (e - c):
                ii, jj = _pairs_below(sq[a:b, None] + sq[None, c:e] - 2.0 * (rows32(a, b) @ rows32(c, e).T)
                                      .astype(np.float64), loose, a, c)
            found_i.append(ii)
            found_j.append(jj)
    oi, oj = order[np.concatenate(found_i)], order[np.concatenate(found_j)]
    keep_i: list[npt.NDArray[np.intp]] = []
    keep_j: list[npt.NDArray[np.intp]] = []
    dists: list[F64] = []
    for s in range(0, len(oi), EXACT_BATCH):  # batches bound the memory of the exact check
        bi, bj = oi[s : s + EXACT_BATCH], oj[s : s + EXACT_BATCH]
        d = np.sqrt(np.sum((x[bi] - x[bj]) ** 2, axis=1))
        ok = d <= radius
        keep_i.append(np.minimum(bi[ok], bj[ok]))
        keep_j.append(np.maximum(bi[ok], bj[ok]))
        dists.append(d[ok])
    if not dists:
        return empty, empty, np.zeros(0)
    return (np.concatenate(keep_i).astype(np.intp), np.concatenate(keep_j).astype(np.intp),
            np.concatenate(dists))


def _clusters(n: int, pi: npt.NDArray[np.intp], pj: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Cluster label of each row (its smallest member), -1 for rows linked to nothing."""
    parent = list(range(n))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a, b in zip(pi.tolist(), pj.tolist(), strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    labels = np.full(n, -1, dtype=np.intp)
    for k in set(pi.tolist()) | set(pj.tolist()):
        labels[k] = root(k)
    return labels


def near_duplicates(presets: Sequence[PresetFacts], threshold: float) -> list[dict[str, Any]]:
    """Clusters of near-identical sounds per format. Exact copies are compared once and listed
    with the cluster their sound falls into (they are also under ``exact``)."""
    by_format: dict[str, list[PresetFacts]] = defaultdict(list)
    copies: dict[tuple[str, str], list[str]] = {}
    for p in presets:
        if p.schema is None or p.values is None:
            continue
        if p.sound_hash:
            key = (p.format, p.sound_hash)
            if key in copies:
                copies[key].append(p.ref)  # compared once; listed with its cluster
                continue
            copies[key] = [p.ref]
        by_format[p.format].append(p)
    out: list[dict[str, Any]] = []
    for _, group in sorted(by_format.items()):
        x = feature_matrix(group)
        width = x.shape[1]
        if width == 0:
            continue
        scale = float(np.sqrt(width))  # Euclidean distance / sqrt(width) = RMS over parameters
        pi, pj, dist = close_pairs(x, threshold * scale)
        labels = _clusters(len(group), pi, pj)
        longest_edge = np.zeros(len(group))
        np.maximum.at(longest_edge, labels[pi], dist)
        for label in np.unique(labels[labels >= 0]).tolist():
            members = np.nonzero(labels == label)[0].tolist()
            if len(members) <= DIAMETER_MAX:
                sub = x[members]
                sq = np.einsum("ij,ij->i", sub, sub)
                d2 = sq[:, None] + sq[None, :] - 2.0 * (sub @ sub.T)  # m x m, never m x m x width
                largest = float(np.sqrt(max(0.0, float(d2.max())))) / scale
            else:  # the diameter would cost m^2 distances: report the longest link instead
                largest = float(longest_edge[label]) / scale
            refs = {r for m in members for r in copies.get((group[m].format, group[m].sound_hash), [group[m].ref])}
            out.append({"paths": sorted(refs), "distance": round(largest, 6),
                        "format": group[0].format})
    return sorted(out, key=lambda o: (o["distance"], o["paths"][0]))


def compute(files: Sequence[FileFacts], ctx: StatsContext) -> Section:
    presets = presets_of(files)
    exact = exact_groups(presets)
    names = name_collisions(presets)
    near = near_duplicates(presets, ctx.threshold)
    data = {
        "exact": exact,
        "near": near,
        "names": names,
        "threshold": ctx.threshold,
        "exact_copies": sum(len(g) - 1 for g in exact),
    }
    top = ctx.top
    tables = (
        table("exact", "Exact duplicates (same sound, name and metadata left out)", ("group", "presets", "paths"),
              [(i, len(g), tuple(g)) for i, g in enumerate(exact, 1)], top),
        table("near", f"Near duplicates (RMS distance <= {ctx.threshold:g} of each parameter's range)",
              ("cluster", "distance", "paths"),
              [(i, round(c["distance"], 4), tuple(c["paths"])) for i, c in enumerate(near, 1)], top),
        table("names", "Name collisions (same name, ignoring case)", ("name", "format", "paths"),
              [(str(c["name"]), str(c["format"]), tuple(c["paths"])) for c in names], top),
    )
    notes = (f"{len(exact)} exact groups ({data['exact_copies']} extra copies), {len(near)} near-duplicate clusters, "
             f"{len(names)} name collisions",)
    return Section("duplicates", data, tuple(t for t in tables if t.rows), (), notes)
