// tpcml -- the DARWIN-VAE anomaly score TS = -ELBO + R H_B of one event, in C++ from the exported ONNX graphs
// (DARWIN-VAE Sec. 3.2, the TS equation):
//
//   TS = beta/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)                                (KL, x beta)
//      + sum_i [ (x_i - xD_i)^2 / (2 sigma_D,i^2) + log sigma_D,i + log(2 pi)/2 ]              (-log N(x; xD, sigma_D))
//      - R log(1 - p)                                                                         (R H_B)
//
// with (mu, log sigma^2) = encoder(x), xD = decoder(mu) and p = classifier(x). The expectation over q(z|x) in the
// ELBO is estimated by the mean-latent plug-in (z = mu, the mode of q): deterministic, so that TS depends on the
// event alone and is identical on any thread count (the documented estimator; the sampled ELBO would need
// random ops, which do not convert to ONNX). sigma_D (learned, one per vector entry) and beta come from the
// decoder's metadata ("tpcml.log_sigma_d": JSON list; "tpcml.beta"). p is clamped to [0, 1 - 1e-7] (H_B <= 16.1).
//
// Usage (compiled or jitted, after tpcml is loaded and this header is included):
//   auto df2 = df.DefineSlot("TS", tpcml::darwin::anomalyScoreFor("enc.onnx", "dec.onnx", "cls.onnx", R), {"x"});
// or the jitted string  tpcml::darwin::anomalyScoreFor("enc.onnx", "dec.onnx", "cls.onnx", 10.)(rdfslot_, x)
// where x is the event vector column (tpcml::defineEventVector). parts(slot, x) returns {KL, -log N, H_B}.
#ifndef TPCML_STUDIES_DARWIN_ANOMALYSCORE_H
#define TPCML_STUDIES_DARWIN_ANOMALYSCORE_H

#include "tpcml/core/Error.h"
#include "tpcml/onnx/Scorer.h"

#include <ROOT/RVec.hxx>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace tpcml::darwin {

class AnomalyScore {
public:
   AnomalyScore(const std::string &encoder, const std::string &decoder, const std::string &classifier, double R)
       : m_enc(encoder), m_dec(decoder), m_cls(classifier), m_R(R)
   {
      const auto &dm = m_dec.model();
      m_beta = std::stod(dm.metadataValue("tpcml.beta", "1"));
      std::string list = dm.metadataValue("tpcml.log_sigma_d");
      std::replace(list.begin(), list.end(), '[', ' ');
      std::replace(list.begin(), list.end(), ']', ' ');
      std::replace(list.begin(), list.end(), ',', ' ');
      std::istringstream in(list);
      for (double v; in >> v;)
         m_logSigmaD.push_back(v);
      if (m_logSigmaD.size() != m_dec.outputSize())
         throw tpcml::InputError(decoder + ": metadata tpcml.log_sigma_d has " + std::to_string(m_logSigmaD.size()) +
                                 " values; expected the decoder's " + std::to_string(m_dec.outputSize()) + " outputs");
      if (m_enc.outputSize() != 2 * m_dec.eventSize())
         throw tpcml::InputError(encoder + ": " + std::to_string(m_enc.outputSize()) +
                                 " outputs; expected mean and log-variance of the decoder's " +
                                 std::to_string(m_dec.eventSize()) + " latent dimensions");
      if (m_enc.eventSize() != m_dec.outputSize() || m_cls.eventSize() != m_dec.outputSize())
         throw tpcml::InputError("encoder, decoder and classifier disagree on the event-vector size (" +
                                 std::to_string(m_enc.eventSize()) + ", " + std::to_string(m_dec.outputSize()) + ", " +
                                 std::to_string(m_cls.eventSize()) + ")");
   }

   /// {beta-less KL, -log N(x; xD, sigma_D), H_B} of one event vector.
   ROOT::RVec<double> parts(unsigned slot, const ROOT::RVec<float> &x) const
   {
      if (x.size() != m_logSigmaD.size())
         throw tpcml::UsageError("anomaly score: the event vector has " + std::to_string(x.size()) +
                                 " values; the models expect " + std::to_string(m_logSigmaD.size()));
      const ROOT::RVec<float> enc = m_enc.evaluate(slot, x);
      const std::size_t m = enc.size() / 2;
      double kl = 0.;
      for (std::size_t j = 0; j < m; ++j) {
         const double mu = enc[j], lv = enc[m + j];
         kl += 0.5 * (mu * mu + std::exp(lv) - 1. - lv);
      }
      const ROOT::RVec<float> mu(enc.begin(), enc.begin() + static_cast<long>(m));
      const ROOT::RVec<float> xd = m_dec.evaluate(slot, mu);
      constexpr double kHalfLog2Pi = 0.91893853320467274;
      double nll = 0.;
      for (std::size_t i = 0; i < xd.size(); ++i) {
         const double d = (static_cast<double>(x[i]) - xd[i]) * std::exp(-m_logSigmaD[i]);
         nll += 0.5 * d * d + m_logSigmaD[i] + kHalfLog2Pi;
      }
      const double p = std::clamp(static_cast<double>(m_cls.evaluate(slot, x)[0]), 0., 1. - 1e-7);
      return {kl, nll, -std::log1p(-p)};
   }

   double operator()(unsigned slot, const ROOT::RVec<float> &x) const
   {
      const auto v = parts(slot, x);
      return m_beta * v[0] + v[1] + m_R * v[2];
   }

   double beta() const { return m_beta; }
   double R() const { return m_R; }

private:
   tpcml::onnx::Scorer m_enc, m_dec, m_cls;
   double m_R = 0., m_beta = 1.;
   std::vector<double> m_logSigmaD;
};

/// The AnomalyScore of three model files and R, built once per process (thread-safe; jitted expressions).
inline AnomalyScore &anomalyScoreFor(const std::string &encoder, const std::string &decoder,
                                     const std::string &classifier, double R)
{
   static std::mutex mutex;
   static std::map<std::tuple<std::string, std::string, std::string, double>, std::unique_ptr<AnomalyScore>> cache;
   std::lock_guard<std::mutex> lock(mutex);
   auto &slot = cache[{encoder, decoder, classifier, R}];
   if (!slot)
      slot = std::make_unique<AnomalyScore>(encoder, decoder, classifier, R);
   return *slot;
}

} // namespace tpcml::darwin

#endif // TPCML_STUDIES_DARWIN_ANOMALYSCORE_H
