// tpcml -- "Hit", "Peak" and "HitPeak" images of LXe TPC events, the inputs of the XENON1T CNN study
// (X1T-CNN = C. K. Khosa, L. Mars, J. Richards, V. Sanz, "Convolutional Neural Networks for Direct
// Detection of Dark Matter", papers/xenon1t-cnn-hitpeak.md, Sec. III and Figs. 3-7).
//
// The paper cropped PaX's event display (axes and text removed) to 800 x 400 (Hit, Peak) and 800 x 800
// (HitPeak) PNGs and scaled them down to 100 x 50 and 75 x 75 (Sec. IV). tpcml draws the same content
// directly at the training resolution, every pixel the exact area-weighted average of the drawing over
// the pixel (no large intermediate image, no image library):
//
//   Hit      a 2 x 2 grid of cells: S1 (upper row) and S2 (lower row) hit patterns of the top array
//            (left column) and the bottom array (right column). Each cell shows the disc of radius
//            tpc_radius + pmt_diameter / 2 inscribed in it (diameter = the cell's smaller side, so every
//            PMT disc lies inside its cell), centred on the TPC axis; each PMT is a filled disc of
//            pmt_diameter at its registry position, coloured by its area a on a logarithmic scale
//            normalised to the signal's largest PMT area over both arrays, v = log10(1 + a) /
//            log10(1 + a_max) (so the top/bottom contrast survives; PaX's hit-pattern panels autoscale
//            too), through the colour map below. PMTs without light stay black.
//   Peak     two panels side by side: the largest S1 (left) and the largest S2 (right) waveform, the x axis
//            autoscaled to the peak as PaX's display draws it (the samples up to the last non-zero one of
//            the sum, top and bottom waveforms: the stored peak without its zero padding, span the panel),
//            each sample a bar of equal width, filled from the panel's bottom edge
//            to log10(PE per sample) on a y axis from 10^0 to 10^2 (X1T-CNN Sec. III: "the y-axis was
//            set to a log-scale with a range of 0 to 10^2"; samples below 1 PE draw nothing, above
//            100 PE are clipped). Channel 0 (red) is the top-array waveform, channel 1 (green) the
//            sum, channel 2 (blue) the bottom-array waveform.
//   HitPeak  the Hit layout in the upper half and the Peak layout in the lower half (X1T-CNN Fig. 6).
//
// Background is black (0): PaX's white background carries no information and a zero background suits
// the convolution layers. Pixel values lie in [0, 1]. Colour map: black-red-yellow-white, piecewise
// linear as matplotlib's "hot" (red rises over v in [0, 0.365], green over [0.365, 0.746], blue over
// [0.746, 1]; matplotlib _cm.py, _hot_data).
//
// Raw mode (no drawing, for models that prefer tensors): the concatenation s1 PMT areas (n_pmt),
// s2 PMT areas (n_pmt), the S1 waveform (sum, top, bottom: 3 x samples) and the S2 waveform (3 x samples),
// in PE.
//
// One kernel (HitPeakImager::render), three doors (docs/event-model.md):
//   * RDataFrame:  tpcml::defineHitPeakImage(df, "image", imager)  (RVec<float> column)
//   * pybind11:    tpcml._core.HitPeakImager(detector, kind).batch(s1_pmt_area, s2_pmt_area, ...)
//   * executable:  tpcml-hitpeak --input events.root --output images.root --kind hitpeak
#ifndef TPCML_IMAGING_HITPEAK_H
#define TPCML_IMAGING_HITPEAK_H

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tpcml {

class DetectorConfig;

enum class HitPeakKind : int { kHit = 0, kPeak = 1, kHitPeak = 2, kRaw = 3 };

/// "hit", "peak", "hitpeak" or "raw" (UsageError listing them otherwise).
HitPeakKind parseHitPeakKind(const std::string &name);
std::string hitPeakKindName(HitPeakKind kind);

/// One PMT array: positions (mm) and the radius of the TPC disc the cell shows.
struct HitPeakArrays {
   std::vector<double> topX, topY, bottomX, bottomY;
   double tpcRadius = 0.;   ///< mm
   double pmtDiameter = 0.; ///< mm
   /// From a registry detector: the PMT table or hex layout of LXeOptics, tpc_radius, pmt_diameter.
   static HitPeakArrays fromDetector(const DetectorConfig &detector);
   std::size_t nPmt() const { return topX.size() + bottomX.size(); }
};

struct HitPeakOptions {
   HitPeakKind kind = HitPeakKind::kHitPeak;
   /// Image size in pixels; 0 = the paper's: HitPeak 75 x 75, Hit and Peak 100 (wide) x 50 (X1T-CNN Sec. IV).
   int width = 0, height = 0;
   /// Samples per stored waveform (the events tree: 200, strax-like peaks).
   int samples = 200;
   /// log10 range of the Peak y axis (PE per sample): X1T-CNN Sec. III, 10^0 .. 10^2.
   double logMin = 0., logMax = 2.;
   bool channelsFirst = false; ///< false: NHWC (row, column, channel); true: NCHW
};

/// Pointers to one event's inputs: PMT areas (n_pmt each, top array first) and waveforms (samples each).
struct HitPeakEvent {
   const float *s1Pmt = nullptr, *s2Pmt = nullptr;
   std::array<const float *, 3> s1Wave{}; ///< sum, top, bottom
   std::array<const float *, 3> s2Wave{};
};

class HitPeakImager {
public:
   /// Validates the options (sizes in [8, 1024], samples >= 1, logMin < logMax) and the arrays (finite
   /// positions, radius and diameter > 0); throws UsageError naming the bad value.
   HitPeakImager(HitPeakArrays arrays, HitPeakOptions options = {});
   HitPeakImager(const DetectorConfig &detector, HitPeakOptions options = {});

   const HitPeakOptions &options() const { return m_opt; }
   int width() const { return m_w; }
   int height() const { return m_h; }
   int channels() const { return m_opt.kind == HitPeakKind::kRaw ? 1 : 3; }
   std::size_t nPmt() const { return m_nPmt; }
   /// Floats per image (width x height x 3; raw mode: 2 n_pmt + 6 samples).
   std::size_t imageSize() const { return m_size; }

   /// The kernel: one event's image into `image` (imageSize() floats, all overwritten). Non-finite PMT areas or
   /// waveform samples throw UsageError naming the array and the index. Negative values are legal (baseline
   /// noise integrated over a channel's kept samples, a few tenths of a PE) and draw nothing; raw mode keeps them.
   void render(const HitPeakEvent &event, float *image) const;

   /// RDataFrame door: arrays of n_pmt and `samples` entries (UsageError naming the column otherwise).
   ROOT::RVec<float> operator()(const ROOT::RVec<float> &s1Pmt, const ROOT::RVec<float> &s2Pmt,
                                const ROOT::RVec<float> &s1Wave, const ROOT::RVec<float> &s1Top,
                                const ROOT::RVec<float> &s1Bottom, const ROOT::RVec<float> &s2Wave,
                                const ROOT::RVec<float> &s2Top, const ROOT::RVec<float> &s2Bottom) const;

   /// Batch door: nEvents rows of each input (row-major (nEvents, n_pmt) and (nEvents, samples)) into
   /// images (nEvents x imageSize()), on `threads` threads (0: all cores); identical for any thread count.
   void batch(const float *s1Pmt, const float *s2Pmt, const std::array<const float *, 3> &s1Wave,
              const std::array<const float *, 3> &s2Wave, std::size_t nEvents, float *images,
              unsigned threads = 1) const;

private:
   struct Cover { ///< a pixel (index into one channel plane) and the fraction of it a PMT disc covers
      std::uint32_t pixel;
      float fraction;
   };
   struct Rect {
      double x0, y0, x1, y1; ///< pixels, continuous coordinates (x right, y down)
   };
   void layout();
   void discCovers(const std::vector<double> &px, const std::vector<double> &py, const Rect &cell,
                   std::vector<std::uint32_t> &begin);
   void drawHits(const float *area, std::size_t coverOffset, float *image) const;
   void drawWave(const std::array<const float *, 3> &wave, const Rect &panel, float *image,
                 std::vector<float> &scratch) const;

   HitPeakArrays m_arrays;
   HitPeakOptions m_opt;
   int m_w = 0, m_h = 0;
   std::size_t m_nPmt = 0, m_size = 0;
   bool m_hit = false, m_peak = false;
   Rect m_s1Panel{}, m_s2Panel{};
   std::vector<Cover> m_covers;          ///< per PMT per signal: [S1 top, S1 bottom, S2 top, S2 bottom]
   std::vector<std::uint32_t> m_coverAt; ///< 2 n_pmt + 1 offsets into m_covers (S1 PMTs, then S2 PMTs)
};

/// The events-tree columns the images are drawn from, in the kernel's order (`tpcml simulate xenon1t`'s names):
/// s1_pmt_area, s2_pmt_area, s1_waveform, s1_waveform_top, s1_waveform_bottom, s2_waveform, s2_waveform_top,
/// s2_waveform_bottom.
const std::vector<std::string> &hitPeakColumns();

/// The array input columns of an image or vector door: `columns` must hold `expected` names (UsageError "<door>
/// takes <expected> columns (<hint>), got n"), each in `df` (InputError "<what>: the dataset has no column 'c'" with
/// the nearest names); returns them normalised to float arrays (defineAs, ColumnKind::kRealArray).
std::vector<std::string> arrayInputColumns(ROOT::RDF::RNode &df, const std::vector<std::string> &columns,
                                           std::size_t expected, const std::string &door, const std::string &hint,
                                           const std::string &what);

/// Defines `name` (RVec<float>, the image) from the events-tree columns (default: hitPeakColumns()). Throws
/// InputError naming a missing column (with the nearest names); a wrong array length stops the event loop with
/// a UsageError naming the column and the entry.
ROOT::RDF::RNode defineHitPeakImage(ROOT::RDF::RNode df, const std::string &name, const HitPeakImager &imager,
                                    const std::vector<std::string> &columns = hitPeakColumns());

} // namespace tpcml

#endif // TPCML_IMAGING_HITPEAK_H
