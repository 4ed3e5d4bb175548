"""Track images of whole files in RDataFrame with the C++ rasteriser (``tpcml raster``; the same kernel as
``tpcml-raster`` and ``tpcml._core.TrackRasteriser.batch``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..rootio import atomic_path

__all__ = ["rasterise_file"]


def rasterise_file(
    inputs: Sequence[str | os.PathLike] | str | os.PathLike,
    output: str | os.PathLike,
    upscale: int = 1,
    channels_first: bool = False,
    threads: int = 1,
    drop_hits: bool = False,
    detector: str = "pandax3",
    tree: str = "events",
) -> dict:
    """Write ``output``: every entry of ``tree`` with ``image`` and ``image_outside`` added (written under a
    temporary name, renamed when complete). With threads > 1 (ImplicitMT) the entry order is not kept."""
    import tpcml

    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    files = [str(Path(f)) for f in inputs]
    for f in files:
        if not Path(f).is_file():
            raise InputError(f"{f}: no such file")
    ROOT = tpcml.load_root()
    for f in files:
        ROOT.tpcml.requireColumns(
            f, tree, ROOT.std.vector["std::string"](["hit_plane", "hit_strip", "hit_time", "hit_charge"])
        )
    det = ROOT.tpcml.DetectorConfig.load(detector)
    rast = ROOT.tpcml.TrackRasteriser(ROOT.tpcml.RasterOptions.fromDetector(det, int(upscale), bool(channels_first)))
    if threads > 1:
        ROOT.EnableImplicitMT(threads)
    try:
        df = ROOT.RDataFrame(tree, ROOT.std.vector["std::string"](files))
        keep = [str(c) for c in df.GetColumnNames() if not (drop_hits and str(c).startswith("hit_"))]
        node = ROOT.tpcml.defineTrackImage(ROOT.RDF.AsRNode(df), "image", rast)
        count, outside = node.Count(), node.Sum["unsigned int"]("image_outside")
        with atomic_path(output) as tmp:
            node.Snapshot(tree, str(tmp), ROOT.std.vector["std::string"]([*keep, "image", "image_outside"]))
        return {"entries": int(count.GetValue()), "outside": int(outside.GetValue()), "side": int(rast.side())}
    finally:
        if ROOT.IsImplicitMTEnabled():
            ROOT.DisableImplicitMT()
