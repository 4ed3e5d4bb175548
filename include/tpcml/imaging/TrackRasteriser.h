// tpcml -- track-to-image rasterisation for strip-readout gas TPCs (PandaX-III; P3-CNN
// = papers/pandax3-efficientnet-tracks.md, Sec. 3.2 and Fig. 5).
//
// An event is a list of strip hits: plane (0 = X strips, 1 = Y strips), strip coordinate
// (mm), arrival time (us) and charge. The X-strip hits give the XZ projection, the Y-strip
// hits the YZ projection, with z = v_d t. Each projection becomes one channel of an RGB
// image of N x N pixels of `pixelSize` mm (XZ -> channel 0, red; YZ -> channel 1, green;
// channel 2 stays empty), aligned on that projection's own charge centre, with the charges
// normalised to the projection's total: every channel sums to 1 when all its hits fall
// inside. Rows follow z (row 0 at the smallest z), columns the strip coordinate. The centre
// (cs, cz) lands on the corner of pixel (N/2, N/2): pixel column = floor((s - cs) / pixel)
// + N/2, row = floor((z - cz) / pixel) + N/2. Hits outside the window are counted, never
// dropped in silence. Optional nearest-neighbour upscaling by an integer factor (P3-CNN:
// x2 to 128 x 128) and NHWC or NCHW layout.
//
// One kernel, three doors (docs/event-model.md):
//   * RDataFrame:  tpcml::defineTrackImage(df, "image", rasteriser)  (RVec<float> column and
//                  image_outside, the hits outside the window)
//   * pybind11:    tpcml._core.TrackRasteriser(...).batch(plane, strip, time, charge, offsets)
//   * executable:  tpcml-raster --input tracks.root --output images.root [--upscale 2]
#ifndef TPCML_TRACK_RASTERISER_H
#define TPCML_TRACK_RASTERISER_H

#include "tpcml/core/Error.h"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tpcml {

class DetectorConfig;

/// A hit the kernel refuses (plane other than 0/1; non-finite strip, time or charge; negative
/// charge): `hit` is its index in the event, `column` 0..3 the hit column at fault (plane,
/// strip, time, charge), `event` the event or entry number when the door knows it (else -1).
class TrackHitError : public UsageError {
public:
   TrackHitError(const std::string &what, std::size_t hitIndex, int columnIndex, long long eventNumber = -1)
       : UsageError(what), hit(hitIndex), column(columnIndex), event(eventNumber)
   {
   }
   std::size_t hit;
   int column;
   long long event;
};

struct RasterOptions {
   int pixels = 64;             ///< per side before upscaling (P3-CNN Sec. 3.2: 64 x 64)
   double pixelSize = 3.0;      ///< mm (P3-CNN Sec. 3.2: 3 x 3 mm2, the strip pitch)
   double driftVelocity = 1.87; ///< mm/us, z = v_d t (P3-CNN Sec. 3.1: 1.87 mm/us at 1 kV/cm)
   int upscale = 1;             ///< nearest-neighbour factor (P3-CNN Sec. 3.2/4.3: 2 gives 128 x 128)
   bool channelsFirst = false;  ///< false: NHWC (row, column, channel); true: NCHW
   /// image_pixels, pixel_size and drift_velocity of a detector (PandaX-III: pandax3.toml).
   static RasterOptions fromDetector(const DetectorConfig &detector, int upscale = 1, bool channelsFirst = false);
};

class TrackRasteriser {
public:
   static constexpr int kChannels = 3;

   /// Validates the options (pixels >= 1 and even, pixel size and drift velocity > 0, finite;
   /// upscale in [1, 8]); throws UsageError naming the bad value.
   explicit TrackRasteriser(const RasterOptions &options = {});

   const RasterOptions &options() const { return m_opt; }
   /// Pixels per side of the output image (pixels x upscale).
   int side() const { return m_side; }
   /// Floats per image (side x side x 3).
   std::size_t imageSize() const { return m_imageSize; }

   /// The kernel: the image of one event's n hits into `image` (imageSize() floats, all
   /// overwritten); returns the number of hits that fell outside the window. Hits of a plane
   /// other than 0 or 1, with a non-finite coordinate, time or charge, or with a negative
   /// charge throw TrackHitError (a UsageError) naming the hit and the column.
   std::size_t rasterise(const int *plane, const float *strip, const float *time, const float *charge, std::size_t n,
                         float *image) const;

   /// RDataFrame door: the image of one event (a new RVec of imageSize() floats).
   ROOT::RVec<float> operator()(const ROOT::RVec<int> &plane, const ROOT::RVec<float> &strip,
                                const ROOT::RVec<float> &time, const ROOT::RVec<float> &charge) const;
   /// The same image, with the number of hits outside the window in `outsideCount` (one kernel
   /// call for both: what defineTrackImage uses).
   ROOT::RVec<float> image(const ROOT::RVec<int> &plane, const ROOT::RVec<float> &strip, const ROOT::RVec<float> &time,
                           const ROOT::RVec<float> &charge, unsigned &outsideCount) const;
   /// Batch door: events e = 0..nEvents-1 with hits [offsets[e], offsets[e+1]) of the flat
   /// arrays, images into `images` (nEvents x imageSize()) and counts into `outsideCounts`
   /// (nEvents), on `threads` threads (0: all cores); identical whatever the thread count.
   void batch(const int *plane, const float *strip, const float *time, const float *charge, const int64_t *offsets,
              std::size_t nEvents, float *images, uint32_t *outsideCounts, unsigned threads = 1) const;

private:
   struct Centre {
      double s = 0., z = 0., q = 0.;
   };
   void centres(const int *plane, const float *strip, const float *time, const float *charge, std::size_t n,
                Centre (&c)[2]) const;
   /// rasterise() into an image already holding zeros.
   std::size_t fill(const int *plane, const float *strip, const float *time, const float *charge, std::size_t n,
                    float *image) const;
   RasterOptions m_opt;
   int m_side = 0;
   std::size_t m_imageSize = 0;
   double m_invPixel = 0.;
};

/// Defines `name` (RVec<float>, the image) and `name + "_outside"` (unsigned, hits outside
/// the window) from the hit columns of `df` (default names: the schema of `tpcml simulate
/// pandax3`). The columns may be TTree or RNTuple, RVec or std::vector, float or double (plane:
/// 32-bit integers), converted by tpcml::defineAs. Throws InputError naming a missing column
/// (with the nearest existing names) or a column of another type; a bad hit stops the event
/// loop with a TrackHitError naming the entry (rdfentry_), the hit and the column.
ROOT::RDF::RNode defineTrackImage(ROOT::RDF::RNode df, const std::string &name, const TrackRasteriser &rasteriser,
                                  const std::vector<std::string> &hitColumns = {"hit_plane", "hit_strip", "hit_time",
                                                                                "hit_charge"});

} // namespace tpcml

#endif // TPCML_TRACK_RASTERISER_H
