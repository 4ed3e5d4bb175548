// tpcml -- the image jobs: one function per image kind for every door.
//
// rasterFiles adds to every entry of the input trees the XZ/YZ track image (RVec<float>) made by
// tpcml::TrackRasteriser and `image_outside` (hits outside the window; PandaX-III, P3-CNN Sec. 3.2);
// hitPeakFiles adds the Hit / Peak / HitPeak image of tpcml::HitPeakImager (XENON1T, X1T-CNN Sec. III);
// vectorFiles adds the DARWIN-VAE event vector of tpcml::EventVectorBuilder and, given the three ONNX graphs, the
// anomaly score TS of tpcml::AnomalyScore (DARWIN-VAE Sec. 3.2-3.3).
// Both write the trees in entry order whatever the thread count, atomically, with the file contract
// (one shared job runner). tpcml-raster, tpcml-hitpeak and tpcml-vector call them (like onnx::scoreFiles).
#ifndef TPCML_RASTER_FILES_H
#define TPCML_RASTER_FILES_H

#include "tpcml/imaging/EventVector.h"
#include "tpcml/imaging/HitPeak.h"
#include "tpcml/imaging/TrackRasteriser.h"

#include <functional>
#include <string>
#include <vector>

namespace tpcml {

/// What every image job has: inputs, output and the output contract.
struct ImageJobBase {
   std::vector<std::string> inputs; ///< files with the kernel's input columns
   std::string tree = "events";
   std::string output;                           ///< ROOT file to write (atomically); must not be an input
   unsigned threads = 1;                         ///< images on that many threads (1 when they would not fit in memory)
   std::vector<std::string> commandLine;         ///< the door's argv, for tpcml_provenance
   std::string format = "ttree";                 ///< output tree format: "ttree" or "rntuple"
   bool progress = true;                         ///< progress of the event loops on stderr
   bool allowDetectorMismatch = false;           ///< inputs tagged with different detectors
   std::function<void(const std::string &)> log; ///< progress messages (none when empty)
};

/// What one rasterising run does.
struct RasterJob : ImageJobBase {
   RasterOptions options;
   bool dropHits = false; ///< do not copy the hit_* columns
};

/// What one Hit/Peak/HitPeak run does: the inputs hold the events-tree arrays (tpcml simulate xenon1t).
struct HitPeakJob : ImageJobBase {
   HitPeakOptions options;
   /// Registry name or TOML file of the detector whose PMT positions are drawn; empty: the inputs'
   /// tpcml_detector (an InputError when they carry none).
   std::string detector;
   bool dropArrays = false; ///< do not copy the per-PMT and waveform array columns
};

/// What one event-vector run does (DARWIN-VAE): the inputs hold the events-tree arrays (tpcml simulate darwin).
struct VectorJob : ImageJobBase {
   EventVectorOptions options;
   /// Registry name or TOML file of the detector whose PMT counts set the vector's layout; empty: the inputs'
   /// tpcml_detector (an InputError when they carry none).
   std::string detector;
   std::string name = "darwin_x"; ///< the vector column (RVec<float>)
   /// The anomaly score TS (tpcml::AnomalyScore) from these three ONNX graphs; all empty: no TS column.
   std::string encoder, decoder, classifier;
   double R = 0.;                ///< the weight of H_B in TS
   std::string scoreName = "TS"; ///< the TS column (double)
   bool dropVector = false;      ///< do not write the vector column (only with TS)
   bool dropArrays = false;      ///< do not copy the waveform and per-PMT array columns
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

/// Runs the job (images of job.options.kind). Bad arrays are an InputError naming the file, tree, entry
/// and column. RasterSummary::outside is 0.
RasterSummary hitPeakFiles(const HitPeakJob &job);

/// Runs the job: the vector column, and TS when the graphs are given. Bad arrays are an InputError naming the
/// file, tree, entry and column; a missing or inconsistent graph an InputError naming it. RasterSummary::outside
/// is 0.
RasterSummary vectorFiles(const VectorJob &job);

} // namespace tpcml

#endif // TPCML_RASTER_FILES_H
