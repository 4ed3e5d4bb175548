"""Track images of whole files in RDataFrame with the C++ rasteriser (``tpcml raster``; the same kernel as
``tpcml-raster`` and ``tpcml._core.TrackRasteriser.batch``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tpcml.core.errors import InputError, cpp_message
from tpcml.core.rootio import atomic_path

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
    pixels: int | None = None,
    pixel_size: float | None = None,
    format: str = "ttree",
    allow_detector_mismatch: bool = False,
) -> dict:
    """Write ``output``: every entry of ``tree`` with ``image`` and ``image_outside`` added, in input order
    (written under a temporary name, renamed when complete). The output is written in one ordered pass:
    Snapshot under ImplicitMT does not keep the entry order, so ``threads`` > 1 is not used for it.

    Refused before any work (``tpcml.ArgumentError``): an output that is one of the inputs or the detector
    file. InputError names a missing, unreadable or wrong-type file, tree, column or hit, and inputs tagged
    (tpcml_detector) with another detector unless ``allow_detector_mismatch``. ``pixels`` (per side, before
    upscaling) and ``pixel_size`` (mm) replace the detector's values, as tpcml-raster's options do. ``format``:
    "ttree" (default) or "rntuple"; the output carries tpcml_detector and tpcml_provenance."""
    import tpcml
    from tpcml import _core
    from tpcml.core.guards import refuse_overwrite
    from tpcml.core.rootio import check_chain, check_format, snapshot_options, write_metadata

    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    files = [str(Path(f)) for f in inputs]
    if not files:
        raise InputError("no input files given")
    refuse_overwrite(output, [*files, detector if Path(str(detector)).is_file() else None])
    from tpcml.core import detectors

    detectors.load(detector)  # ConfigError names a bad detector before any work
    check_format(format)
    check_chain(files, tree, HIT_COLUMNS)  # TTrees or RNTuples (not both); names the file, column, its type
    det_name = detectors.load(detector).name
    _core.check_detector(files, det_name, "the images are made for detector", allow_detector_mismatch)
    ROOT = tpcml.load_root()
    del threads  # one ordered pass (see above)
    if ROOT.IsImplicitMTEnabled():
        ROOT.DisableImplicitMT()
    try:
        det = ROOT.tpcml.DetectorConfig.load(str(detector))
        opts = ROOT.tpcml.RasterOptions.fromDetector(det, int(upscale), bool(channels_first))
        if pixels is not None:
            opts.pixels = int(pixels)
        if pixel_size is not None:
            opts.pixelSize = float(pixel_size)
        rast = ROOT.tpcml.TrackRasteriser(opts)
        df = ROOT.RDataFrame(tree, ROOT.std.vector["std::string"](files))
        keep = [str(c) for c in df.GetColumnNames() if not (drop_hits and str(c).startswith("hit_"))]
        node = ROOT.tpcml.defineTrackImage(ROOT.RDF.AsRNode(df), "image", rast)
        count, outside = node.Count(), node.Sum["unsigned int"]("image_outside")
        with atomic_path(output) as tmp:
            columns = ROOT.std.vector["std::string"]([*keep, "image", "image_outside"])
            node.Snapshot(tree, str(tmp), columns, snapshot_options(format))
            write_metadata(tmp, det_name, files, carry_from=files)
        return {"entries": int(count.GetValue()), "outside": int(outside.GetValue()), "side": int(rast.side())}
    except Exception as err:  # C++ exceptions through PyROOT: one InputError naming the files
        if isinstance(err, _core.Error | OSError):
            raise
        raise InputError(f"{', '.join(files)}: {cpp_message(err)}") from None


HIT_COLUMNS = {"hit_plane": "ints", "hit_strip": "floats", "hit_time": "floats", "hit_charge": "floats"}
