// tpcml -- the DARWIN-VAE anomaly score TS = -ELBO + R H_B of one event, from the exported ONNX graphs of a VAE
// (encoder, decoder) and an ER-vs-NR classifier (DARWIN-VAE = DARWIN collaboration, "Model-independent searches
// of new physics in DARWIN with deep learning", papers/darwin-vae-anomaly.md, Sec. 3.2, the TS equation):
//
//   TS = beta/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)                          (KL, times beta)
//      + sum_i [ (x_i - xD_i)^2 / (2 sigma_D,i^2) + log sigma_D,i + log(2 pi)/2 ]        (-log N(x; xD, sigma_D))
//      - R log(1 - p)                                                                   (R H_B)
//
// with (mu, log sigma^2) = encoder(x), xD = decoder(mu) and p = classifier(x). The expectation over q(z|x) in the
// ELBO is estimated by the mean-latent plug-in (z = mu, the mode of q): deterministic, so TS depends on the event
// alone and is the same on any thread count (the sampled ELBO would need random ops, which do not convert to ONNX).
// sigma_D (learned, one per vector entry) and beta come from the decoder's metadata ("tpcml.log_sigma_d": a JSON
// list; "tpcml.beta", default 1), as tpcml.studies.darwin.models.export writes them. p is clamped to
// [0, 1 - 1e-7] (H_B <= 16.1).
//
// One kernel (AnomalyScore::parts), three doors (docs/studies.md, DARWIN):
//   * RDataFrame:  tpcml::defineAnomalyScore(df, "TS", score, "darwin_x")  (double; parts: RVec<double>)
//                  jitted: tpcml::anomalyScoreFor("enc.onnx", "dec.onnx", "cls.onnx", R)(rdfslot_, darwin_x)
//   * pybind11:    tpcml._core.AnomalyScore(encoder, decoder, classifier, R).score(x, threads) / .parts(...)
//   * executable:  tpcml-vector events.root --output ts.root --encoder E --decoder D --classifier C --r R
// The event vector x is tpcml::EventVectorBuilder's (tpcml/imaging/EventVector.h).
#ifndef TPCML_ANOMALY_ANOMALYSCORE_H
#define TPCML_ANOMALY_ANOMALYSCORE_H

#include "tpcml/onnx/Scorer.h"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RVec.hxx>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace tpcml {

class AnomalyScore {
public:
   /// The parts of TS per event: KL (without beta), -log N(x; xD, sigma_D), H_B.
   static constexpr std::size_t kParts = 3;
   using Parts = std::array<double, kParts>;

   /// From the three ONNX files (InputError naming the file for a missing sigma_D list or graphs that disagree on
   /// the vector or latent size; UsageError for a non-finite or negative R).
   AnomalyScore(const std::string &encoder, const std::string &decoder, const std::string &classifier, double R = 0.);
   /// From loaded models (e.g. onnx::Model::fromBytes).
   AnomalyScore(std::shared_ptr<const onnx::Model> encoder, std::shared_ptr<const onnx::Model> decoder,
                std::shared_ptr<const onnx::Model> classifier, double R = 0.);

   /// The kernel: the parts of one event vector of eventSize() floats; `slot` < onnx::Scorer::kMaxSlots, one
   /// thread per slot at a time.
   Parts parts(unsigned slot, const float *x) const;
   /// TS of the parts: beta KL + (-log N) + R H_B.
   double combine(const Parts &p) const { return m_beta * p[0] + p[1] + m_R * p[2]; }

   /// RDataFrame door: TS of one event (UsageError naming a vector of the wrong length).
   double operator()(unsigned slot, const ROOT::RVec<float> &x) const;
   /// {KL, -log N, H_B} of one event, for RDataFrame.
   ROOT::RVec<double> parts(unsigned slot, const ROOT::RVec<float> &x) const;

   /// Batch door: row-major (nEvents, eventSize()) vectors into nEvents TS values (`ts`, may be null) and
   /// (nEvents, 3) parts (`parts`, may be null), on `threads` threads (0: all cores, at most kMaxSlots);
   /// identical for any thread count.
   void batch(const float *x, std::size_t nEvents, double *ts, double *parts, unsigned threads = 1) const;

   /// The same graphs and sessions with another R.
   AnomalyScore withR(double R) const;
   /// The same graphs with sessions of its own: copies share the per-slot sessions, so two event loops that run at
   /// once with the same slot numbers (e.g. one single-threaded RDataFrame per entry range) each need one.
   AnomalyScore withOwnSessions() const;

   double beta() const { return m_beta; }
   double R() const { return m_R; }
   std::size_t eventSize() const { return m_logSigmaD.size(); }
   std::size_t latentSize() const { return m_latent; }
   const std::vector<double> &logSigmaD() const { return m_logSigmaD; }

private:
   void checkGraphs(); ///< beta and sigma_D from the decoder's metadata; the sizes of the three graphs agree
   onnx::Scorer m_enc, m_dec, m_cls; // copies share the models and the per-slot sessions
   double m_R = 0., m_beta = 1.;
   std::size_t m_latent = 0;
   std::vector<double> m_logSigmaD;
};

/// The AnomalyScore of three model files and R, built once per process (thread-safe): jitted expressions and
/// distributed RDataFrame workers reach the graphs through it.
AnomalyScore &anomalyScoreFor(const std::string &encoder, const std::string &decoder, const std::string &classifier,
                              double R = 0.);

/// Defines `name` from the event-vector column `vector` (tpcml::defineEventVector): TS (double), or with `parts`
/// the RVec<double> {KL, -log N, H_B}. Throws InputError naming a missing column (with the nearest names); a vector
/// of the wrong length stops the event loop with a UsageError naming the entry.
ROOT::RDF::RNode defineAnomalyScore(ROOT::RDF::RNode df, const std::string &name, const AnomalyScore &score,
                                    const std::string &vector = "darwin_x", bool parts = false);

} // namespace tpcml

#endif // TPCML_ANOMALY_ANOMALYSCORE_H
