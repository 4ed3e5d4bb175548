// tpcml -- the DARWIN-VAE event vector: per event [S1 total waveform, S2 total waveform, S2 top hit pattern,
// S2 bottom hit pattern] (DARWIN-VAE = DARWIN collaboration, "Model-independent searches of new physics in
// DARWIN with deep learning", papers/darwin-vae-anomaly.md, Sec. 2.2 and 3.3: "[S1WaveformTotal,
// S2WaveformTotal, S2Patterns], with a total size of 3835").
//
// Layout (L = 2 samples + n_top + n_bottom floats): s1_waveform[0..samples), s2_waveform[0..samples),
// s2_pmt_area of the top array (n_top, registry order), s2_pmt_area of the bottom array (n_bottom). For tpcml's
// DARWIN (200-sample peaks, 955 + 955 PMTs, data/detectors/darwin.toml) L = 2310. The paper's 3835 comes from its
// own waveform lengths and photosensor counts, which it does not publish; tpcml keeps the events tree's
// 200-sample peak waveforms (docs/event-model.md) and the registry's PMTs.
//
// Normalisation (EventVectorNorm):
//   kLog1p (default)  v = sign(x) * log(1 + |x|) of the value in PE (PE per sample for the waveforms). It keeps
//                     the absolute scale (the recoil energy and the S2/S1 ratio, which separate ER from NR and
//                     carry the spectral information the VAE encodes, DARWIN-VAE App. D) while mapping the
//                     1 .. 1e5 PE range of S1 and S2 to O(1 .. 12); the sign keeps negative baseline samples
//                     finite. Dividing each part by its own sum would erase the energy and is not offered.
//   kNone             the values in PE, unchanged.
//
// One kernel (EventVectorBuilder::build), three doors (docs/event-model.md):
//   * RDataFrame:  tpcml::defineEventVector(df, "x", builder)  (RVec<float> column)
//   * pybind11:    tpcml._core.EventVector(detector).batch(s1_waveform, s2_waveform, s2_pmt_area, threads)
//   * executable:  tpcml-vector events.root --output vectors.root (tpcml::vectorFiles, RasterFiles.h; with the
//                  exported graphs it adds the anomaly score TS of tpcml::AnomalyScore too)
#ifndef TPCML_IMAGING_EVENTVECTOR_H
#define TPCML_IMAGING_EVENTVECTOR_H

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>

#include <cstddef>
#include <string>
#include <vector>

namespace tpcml {

class DetectorConfig;

enum class EventVectorNorm : int { kLog1p = 0, kNone = 1 };

/// "log1p" or "none" (UsageError naming the valid ones otherwise).
EventVectorNorm parseEventVectorNorm(const std::string &name);
std::string eventVectorNormName(EventVectorNorm norm);

struct EventVectorOptions {
   int samples = 200; ///< samples per stored peak waveform (the events tree: 200)
   EventVectorNorm norm = EventVectorNorm::kLog1p;
};

class EventVectorBuilder {
public:
   /// nTop, nBottom >= 1 PMTs; samples in [1, 100000] (UsageError naming the value otherwise).
   EventVectorBuilder(std::size_t nTop, std::size_t nBottom, EventVectorOptions options = {});
   /// The PMT counts of a registry detector (its PMT table or hex layout, as HitPeakArrays::fromDetector).
   explicit EventVectorBuilder(const DetectorConfig &detector, EventVectorOptions options = {});

   const EventVectorOptions &options() const { return m_opt; }
   std::size_t nTop() const { return m_nTop; }
   std::size_t nBottom() const { return m_nBottom; }
   std::size_t nPmt() const { return m_nTop + m_nBottom; }
   /// Floats per event: 2 samples + n_top + n_bottom.
   std::size_t size() const { return m_size; }

   /// The kernel: one event into `out` (size() floats). A non-finite waveform sample or a non-finite or negative
   /// PMT area throws UsageError naming the column and the index.
   void build(const float *s1Wave, const float *s2Wave, const float *s2Pmt, float *out) const;

   /// RDataFrame door (UsageError naming a column of the wrong length).
   ROOT::RVec<float> operator()(const ROOT::RVec<float> &s1Wave, const ROOT::RVec<float> &s2Wave,
                                const ROOT::RVec<float> &s2Pmt) const;

   /// Batch door: row-major (nEvents, samples), (nEvents, samples), (nEvents, n_pmt) into (nEvents, size()), on
   /// `threads` threads (0: all cores); identical for any thread count.
   void batch(const float *s1Wave, const float *s2Wave, const float *s2Pmt, std::size_t nEvents, float *out,
              unsigned threads = 1) const;

private:
   EventVectorOptions m_opt;
   std::size_t m_nTop = 0, m_nBottom = 0, m_size = 0;
};

/// The events-tree columns the vector is built from, in the kernel's order: s1_waveform, s2_waveform, s2_pmt_area
/// (names from hitPeakColumns()).
const std::vector<std::string> &eventVectorColumns();

/// Defines `name` (RVec<float>, the event vector) from the events-tree columns (default: eventVectorColumns()).
/// Throws InputError naming a missing column (with the nearest names); a wrong array length stops the event loop
/// with a UsageError naming the column and the entry.
ROOT::RDF::RNode defineEventVector(ROOT::RDF::RNode df, const std::string &name, const EventVectorBuilder &builder,
                                   const std::vector<std::string> &columns = eventVectorColumns());

} // namespace tpcml

#endif // TPCML_IMAGING_EVENTVECTOR_H
