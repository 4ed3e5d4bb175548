// tpcml -- the DARWIN-VAE anomaly score (see include/tpcml/anomaly/AnomalyScore.h).
#include "tpcml/anomaly/AnomalyScore.h"

#include "core/Parallel.h"

#include "tpcml/core/Error.h"
#include "tpcml/imaging/HitPeak.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <tuple>

namespace tpcml {

namespace {

/// The numbers of a JSON list of numbers ("[0.1, -2e-3]"); InputError naming `what` otherwise.
std::vector<double> numberList(const std::string &text, const std::string &what)
{
   std::vector<double> out;
   const auto open = text.find('['), close = text.rfind(']');
   if (open == std::string::npos || close == std::string::npos || close < open)
      throw InputError(what + ": expected a JSON list of numbers, got '" + text.substr(0, 40) + "'");
   const char *p = text.c_str() + open + 1, *end = text.c_str() + close;
   while (p < end) {
      while (p < end && (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t'))
         ++p;
      if (p >= end)
         break;
      char *next = nullptr;
      const double v = std::strtod(p, &next);
      if (next == p || next > end || !std::isfinite(v))
         throw InputError(what + ": value " + std::to_string(out.size()) + " is not a finite number");
      out.push_back(v);
      p = next;
   }
   return out;
}

double checkedR(double R)
{
   if (!std::isfinite(R) || R < 0.)
      throw UsageError("anomaly score: R must be a finite number >= 0, got " + std::to_string(R));
   return R;
}

std::shared_ptr<const onnx::Model> loadModel(const std::string &path, const std::string &role)
{
   try {
      return onnx::Model::load(path);
   } catch (const InputError &e) {
      throw InputError("anomaly score " + role + ": " + e.what());
   }
}

} // namespace

AnomalyScore::AnomalyScore(const std::string &encoder, const std::string &decoder, const std::string &classifier,
                           double R)
    : m_enc(loadModel(encoder, "encoder")), m_dec(loadModel(decoder, "decoder")), // loaded in this order
      m_cls(loadModel(classifier, "classifier")), m_R(checkedR(R))
{
   checkGraphs();
}

AnomalyScore::AnomalyScore(std::shared_ptr<const onnx::Model> encoder, std::shared_ptr<const onnx::Model> decoder,
                           std::shared_ptr<const onnx::Model> classifier, double R)
    : m_enc(std::move(encoder)), m_dec(std::move(decoder)), m_cls(std::move(classifier)), m_R(checkedR(R))
{
   checkGraphs();
}

void AnomalyScore::checkGraphs()
{
   const onnx::Model &dm = m_dec.model();
   const std::string decName = "decoder '" + dm.name() + "'";
   const std::string beta = dm.metadataValue("tpcml.beta", "1");
   char *used = nullptr;
   m_beta = std::strtod(beta.c_str(), &used);
   if (used == beta.c_str() || !std::isfinite(m_beta) || m_beta < 0.)
      throw InputError(decName + ": metadata tpcml.beta = '" + beta + "'; expected a finite number >= 0");
   const std::string list = dm.metadataValue("tpcml.log_sigma_d");
   if (list.empty())
      throw InputError(decName + ": no metadata tpcml.log_sigma_d (the Gaussian decoder's log sigma_D per vector "
                                 "entry, as tpcml.studies.darwin.models.export writes it)");
   m_logSigmaD = numberList(list, decName + ": metadata tpcml.log_sigma_d");
   if (m_logSigmaD.size() != m_dec.outputSize())
      throw InputError(decName + ": metadata tpcml.log_sigma_d has " + std::to_string(m_logSigmaD.size()) +
                       " values; expected the decoder's " + std::to_string(m_dec.outputSize()) + " outputs");
   m_latent = m_dec.eventSize();
   if (m_enc.outputSize() != 2 * m_latent)
      throw InputError("encoder '" + m_enc.model().name() + "': " + std::to_string(m_enc.outputSize()) +
                       " outputs; expected mean and log-variance of the decoder's " + std::to_string(m_latent) +
                       " latent dimensions");
   if (m_cls.outputSize() < 1)
      throw InputError("classifier '" + m_cls.model().name() + "' has no output");
   if (m_enc.eventSize() != eventSize() || m_cls.eventSize() != eventSize())
      throw InputError("encoder, decoder and classifier disagree on the event-vector size (encoder " +
                       std::to_string(m_enc.eventSize()) + ", decoder " + std::to_string(eventSize()) +
                       ", classifier " + std::to_string(m_cls.eventSize()) + ")");
}

AnomalyScore::Parts AnomalyScore::parts(unsigned slot, const float *x) const
{
   const std::size_t n = eventSize();
   const ROOT::RVec<float> view(const_cast<float *>(x), n); // non-owning: the engine only reads it
   const ROOT::RVec<float> enc = m_enc.evaluate(slot, view);
   double kl = 0.;
   for (std::size_t j = 0; j < m_latent; ++j) {
      const double mu = enc[j], lv = enc[m_latent + j];
      kl += 0.5 * (mu * mu + std::exp(lv) - 1. - lv);
   }
   const ROOT::RVec<float> mu(enc.begin(), enc.begin() + static_cast<long>(m_latent));
   const ROOT::RVec<float> xd = m_dec.evaluate(slot, mu);
   constexpr double kHalfLog2Pi = 0.91893853320467274; // log(2 pi) / 2
   double nll = 0.;
   for (std::size_t i = 0; i < n; ++i) {
      const double d = (static_cast<double>(x[i]) - xd[i]) * std::exp(-m_logSigmaD[i]);
      nll += 0.5 * d * d + m_logSigmaD[i] + kHalfLog2Pi;
   }
   const double p = std::clamp(static_cast<double>(m_cls.evaluate(slot, view)[0]), 0., 1. - 1e-7);
   return {kl, nll, -std::log1p(-p)};
}

namespace {
void requireLength(const ROOT::RVec<float> &x, std::size_t want)
{
   if (x.size() != want)
      throw UsageError("anomaly score: the event vector has " + std::to_string(x.size()) +
                       " values; the models expect " + std::to_string(want));
}
} // namespace

double AnomalyScore::operator()(unsigned slot, const ROOT::RVec<float> &x) const
{
   requireLength(x, eventSize());
   return combine(parts(slot, x.data()));
}

ROOT::RVec<double> AnomalyScore::parts(unsigned slot, const ROOT::RVec<float> &x) const
{
   requireLength(x, eventSize());
   const Parts p = parts(slot, x.data());
   return ROOT::RVec<double>(p.begin(), p.end());
}

void AnomalyScore::batch(const float *x, std::size_t nEvents, double *ts, double *parts, unsigned threads) const
{
   const unsigned most = onnx::Scorer::kMaxSlots;
   if (threads > most)
      threads = most;
   std::atomic<unsigned> nextSlot{0};
   const std::size_t n = eventSize();
   detail::parallelChunks(
       nEvents, threads,
       [&](std::size_t b, std::size_t end) {
          const unsigned slot = nextSlot++; // one slot (sessions) per chunk; chunks <= threads <= kMaxSlots
          for (std::size_t i = b; i < end; ++i) {
             const Parts p = this->parts(slot, x + i * n);
             if (ts)
                ts[i] = combine(p);
             if (parts)
                std::copy(p.begin(), p.end(), parts + i * kParts);
          }
       },
       64);
}

AnomalyScore AnomalyScore::withR(double R) const
{
   AnomalyScore copy(*this);
   copy.m_R = checkedR(R);
   return copy;
}

AnomalyScore AnomalyScore::withOwnSessions() const
{
   AnomalyScore copy(*this);
   copy.m_enc = onnx::Scorer(m_enc.sharedModel());
   copy.m_dec = onnx::Scorer(m_dec.sharedModel());
   copy.m_cls = onnx::Scorer(m_cls.sharedModel());
   return copy;
}

AnomalyScore &anomalyScoreFor(const std::string &encoder, const std::string &decoder, const std::string &classifier,
                              double R)
{
   static std::mutex mutex;
   static std::map<std::tuple<std::string, std::string, std::string, double>, std::unique_ptr<AnomalyScore>> cache;
   std::lock_guard<std::mutex> lock(mutex);
   auto &slot = cache[{encoder, decoder, classifier, R}];
   if (!slot)
      slot = std::make_unique<AnomalyScore>(encoder, decoder, classifier, R);
   return *slot;
}

ROOT::RDF::RNode defineAnomalyScore(ROOT::RDF::RNode df, const std::string &name, const AnomalyScore &score,
                                    const std::string &vector, bool parts)
{
   const std::vector<std::string> inputs =
       arrayInputColumns(df, {vector}, 1, "defineAnomalyScore", "the event vector", "anomaly score");
   auto located = [](ULong64_t entry, const UsageError &err) {
      return UsageError("entry " + std::to_string(entry) + ": " + err.what());
   };
   if (parts)
      return df.DefineSlotEntry(
          name,
          [score, located](unsigned slot, ULong64_t entry, const ROOT::RVec<float> &x) {
             try {
                return score.parts(slot, x);
             } catch (const UsageError &err) {
                throw located(entry, err);
             }
          },
          inputs);
   return df.DefineSlotEntry(
       name,
       [score, located](unsigned slot, ULong64_t entry, const ROOT::RVec<float> &x) {
          try {
             return score(slot, x);
          } catch (const UsageError &err) {
             throw located(entry, err);
          }
       },
       inputs);
}

} // namespace tpcml
