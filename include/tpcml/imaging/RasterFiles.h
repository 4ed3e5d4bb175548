// tpcml -- the track-image job: one function for every door (PandaX-III, P3-CNN Sec. 3.2).
//
// rasterFiles adds to every entry of the input trees the XZ/YZ track image (RVec<float>) made by
// tpcml::TrackRasteriser and `image_outside` (hits outside the window), and writes the trees in
// entry order whatever the thread count, atomically. tpcml-raster calls it (like onnx::scoreFiles).
#ifndef TPCML_RASTER_FILES_H
#define TPCML_RASTER_FILES_H

#include "tpcml/imaging/TrackRasteriser.h"

#include <functional>
#include <string>
#include <vector>

namespace tpcml {

/// What one rasterising run does.
struct RasterJob {
   std::vector<std::string> inputs; ///< files with hit_plane, hit_strip, hit_time, hit_charge
   std::string tree = "events";
   std::string output; ///< ROOT file to write (atomically); must not be an input
   RasterOptions options;
   unsigned threads = 1;                         ///< images on that many threads (1 when they would not fit in memory)
   bool dropHits = false;                        ///< do not copy the hit_* columns
   std::vector<std::string> commandLine;         ///< the door's argv, for tpcml_provenance
   std::string format = "ttree";                 ///< output tree format: "ttree" or "rntuple"
   bool progress = true;                         ///< progress of the event loops on stderr
   bool allowDetectorMismatch = false;           ///< inputs tagged with different detectors
   std::function<void(const std::string &)> log; ///< progress messages (none when empty)
};

/// What a rasterising run did.
struct RasterSummary {
   unsigned long long images = 0;  ///< entries written
   unsigned long long outside = 0; ///< hits outside the window, all entries
   unsigned threads = 1;           ///< threads used
};

/// Runs the job. Bad hit data is an InputError naming the file, tree, entry and branch; inputs tagged
/// with two detectors are an InputError unless allowDetectorMismatch. The output carries
/// tpcml_provenance and the inputs' tpcml_detector (docs/event-model.md §1).
RasterSummary rasterFiles(const RasterJob &job);

} // namespace tpcml

#endif // TPCML_RASTER_FILES_H
