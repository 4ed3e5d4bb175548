// tpcml::AnomalyScore (the DARWIN-VAE TS) on hand-assembled graphs: a case computed by hand, the batch door equal
// to the per-event kernel on any thread count, the RDataFrame door, sessions of its own for concurrent event loops,
// and the errors of bad graphs and inputs.
#include "tpcml/anomaly/AnomalyScore.h"
#include "tpcml/core/Error.h"
#include "tpcml/onnx/Model.h"

#include "OnnxBytes.h"

#include <ROOT/RDataFrame.hxx>

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace tpcml::test::onnxbytes;
using tpcml::AnomalyScore;
using tpcml::onnx::Model;

/// encoder: x[N, 2] -> z_mean = x Wm, z_log_var = x Wv (one latent dimension)
std::string encoderBytes()
{
   const std::string g = bytes(1, nodeN("MatMul", {"x", "Wm"}, {"z_mean"}, "m")) +
                         bytes(1, nodeN("MatMul", {"x", "Wv"}, {"z_log_var"}, "v")) +
                         bytes(5, floatTensor("Wm", {2, 1}, {0.5f, 0.25f})) +
                         bytes(5, floatTensor("Wv", {2, 1}, {0.f, -0.5f})) + bytes(11, valueInfo("x", "N", 2)) +
                         bytes(12, valueInfo("z_mean", "N", 1)) + bytes(12, valueInfo("z_log_var", "N", 1));
   return model(g);
}

/// decoder: z[N, 1] -> x_D = z Wd, with sigma_D and beta in the metadata
std::string decoderBytes(const std::map<std::string, std::string> &metadata)
{
   const std::string g = bytes(1, nodeN("MatMul", {"z", "Wd"}, {"x_d"}, "d")) +
                         bytes(5, floatTensor("Wd", {1, 2}, {2.f, 1.f})) + bytes(11, valueInfo("z", "N", 1)) +
                         bytes(12, valueInfo("x_d", "N", 2));
   return model(g, metadata);
}

/// classifier: x[N, 2] -> p = sigmoid(x Wc)
std::string classifierBytes()
{
   const std::string g = bytes(1, nodeN("MatMul", {"x", "Wc"}, {"logit"}, "c")) +
                         bytes(1, node("Sigmoid", "logit", "p", "s")) +
                         bytes(5, floatTensor("Wc", {2, 1}, {1.f, -1.f})) + bytes(11, valueInfo("x", "N", 2)) +
                         bytes(12, valueInfo("p", "N", 1));
   return model(g);
}

const std::map<std::string, std::string> kMeta{{"tpcml.log_sigma_d", "[0.0, 0.6931471805599453]"}, {"tpcml.beta", "2"}};

AnomalyScore score(double R, const std::map<std::string, std::string> &meta = kMeta)
{
   return AnomalyScore(Model::fromBytes(encoderBytes(), "enc"), Model::fromBytes(decoderBytes(meta), "dec"),
                       Model::fromBytes(classifierBytes(), "cls"), R);
}

} // namespace

TEST(AnomalyScore, HandComputedEvent)
{
   const AnomalyScore a = score(3.);
   EXPECT_EQ(a.eventSize(), 2u);
   EXPECT_EQ(a.latentSize(), 1u);
   EXPECT_DOUBLE_EQ(a.beta(), 2.);
   // x = (1, 2): mu = 0.5 + 0.5 = 1, log sigma^2 = -1, KL = (1 + e^-1 - 1 + 1) / 2
   // x_D = (2, 1), sigma_D = (1, 2): -log N = 1/2 + (1/2)^2 / 2 + log 2 + log(2 pi)
   // p = sigmoid(1 - 2), H_B = -log(1 - p) = log(1 + e^-1)
   const double kl = 0.5 * (1. + std::exp(-1.));
   const double nll = 0.5 + 0.125 + std::log(2.) + std::log(2. * std::acos(-1.));
   const double hb = std::log(1. + std::exp(-1.));
   const float x[] = {1.f, 2.f};
   const auto p = a.parts(0, x);
   EXPECT_NEAR(p[0], kl, 1e-6);
   EXPECT_NEAR(p[1], nll, 1e-6);
   EXPECT_NEAR(p[2], hb, 1e-6);
   EXPECT_NEAR(a(0, ROOT::RVec<float>{1.f, 2.f}), 2. * kl + nll + 3. * hb, 1e-5);
   EXPECT_NEAR(a.withR(0.)(0, ROOT::RVec<float>{1.f, 2.f}), 2. * kl + nll, 1e-5);
}

TEST(AnomalyScore, BatchEqualsPerEventOnAnyThreadCount)
{
   const AnomalyScore a = score(10.);
   std::vector<float> x;
   for (int i = 0; i < 300; ++i) {
      x.push_back(0.01f * float(i) - 1.f);
      x.push_back(std::sin(0.1f * float(i)));
   }
   const std::size_t n = x.size() / 2;
   std::vector<double> ts1(n), ts3(n), parts(3 * n);
   a.batch(x.data(), n, ts1.data(), parts.data(), 1);
   a.batch(x.data(), n, ts3.data(), nullptr, 3);
   for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(ts1[i], ts3[i]) << i;
      const auto p = a.parts(0, x.data() + 2 * i);
      EXPECT_EQ(ts1[i], a.combine(p)) << i;
      EXPECT_EQ(parts[3 * i + 1], p[1]) << i;
   }
}

TEST(AnomalyScore, RDataFrameDoorEqualsBatch)
{
   const AnomalyScore a = score(1.5);
   ROOT::RDataFrame df(50);
   auto withX =
       df.Define("darwin_x", [](ULong64_t e) { return ROOT::RVec<float>{0.1f * float(e), 1.f - 0.05f * float(e)}; },
                 {"rdfentry_"});
   auto node = tpcml::defineAnomalyScore(withX, "TS", a, "darwin_x");
   node = tpcml::defineAnomalyScore(node, "TS_parts", a, "darwin_x", /*parts=*/true);
   auto ts = node.Take<double>("TS");
   auto parts = node.Take<ROOT::RVec<double>>("TS_parts");
   for (std::size_t e = 0; e < 50; ++e) {
      const float x[] = {0.1f * float(e), 1.f - 0.05f * float(e)};
      EXPECT_EQ((*ts)[e], a.combine(a.parts(0, x))) << e;
      ASSERT_EQ((*parts)[e].size(), 3u);
      EXPECT_EQ((*parts)[e][2], a.parts(0, x)[2]) << e;
   }
   try {
      tpcml::defineAnomalyScore(withX, "TS", a, "darwin_y");
      FAIL() << "expected an InputError";
   } catch (const tpcml::InputError &e) {
      EXPECT_NE(std::string(e.what()).find("'darwin_y'"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("darwin_x"), std::string::npos) << e.what(); // nearest name
   }
   auto wrong = df.Define("short_x", [] { return ROOT::RVec<float>{1.f}; });
   auto bad = tpcml::defineAnomalyScore(wrong, "TS", a, "short_x");
   try {
      bad.Sum<double>("TS").GetValue();
      FAIL() << "expected a UsageError";
   } catch (const tpcml::UsageError &e) {
      EXPECT_NE(std::string(e.what()).find("entry 0"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("expect 2"), std::string::npos) << e.what();
   }
}

TEST(AnomalyScore, BadGraphsAndValuesAreNamed)
{
   auto expectError = [](auto make, const std::string &part) {
      try {
         make();
         ADD_FAILURE() << "expected an error naming " << part;
      } catch (const tpcml::Error &e) {
         EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      }
   };
   expectError([] { score(1., {}); }, "tpcml.log_sigma_d");
   expectError([] { score(1., {{"tpcml.log_sigma_d", "[0.0]"}}); }, "has 1 values; expected the decoder's 2");
   expectError([] { score(1., {{"tpcml.log_sigma_d", "[0.0, nan]"}}); }, "value 1 is not a finite number");
   expectError([] { score(1., {{"tpcml.log_sigma_d", "[0, 0]"}, {"tpcml.beta", "x"}}); }, "tpcml.beta = 'x'");
   expectError([] { score(-1.); }, "R must be a finite number >= 0");
   expectError([] { AnomalyScore("/nonexistent/enc.onnx", "d.onnx", "c.onnx"); }, "/nonexistent/enc.onnx");
   // encoder and decoder swapped: the latent sizes disagree
   expectError(
       [] {
          AnomalyScore(Model::fromBytes(classifierBytes(), "cls"), Model::fromBytes(decoderBytes(kMeta), "dec"),
                       Model::fromBytes(classifierBytes(), "cls"), 0.);
       },
       "mean and log-variance");
   const AnomalyScore a = score(0.);
   expectError([&] { a(0, ROOT::RVec<float>{1.f, 2.f, 3.f}); }, "the event vector has 3 values; the models expect 2");
}

TEST(AnomalyScore, OwnSessionsLetTwoLoopsUseTheSameSlotAtOnce)
{
   const AnomalyScore a = score(2.);
   std::vector<float> x;
   for (int i = 0; i < 4000; ++i)
      x.push_back(0.001f * float(i) - 2.f);
   std::vector<double> ref(x.size() / 2);
   a.batch(x.data(), ref.size(), ref.data(), nullptr, 1);
   std::vector<std::vector<double>> got(2, std::vector<double>(ref.size()));
   std::vector<std::thread> loops;
   for (std::size_t t = 0; t < 2; ++t) // two event loops, both on slot 0, as tpcml-vector's entry ranges
      loops.emplace_back([&, t, own = a.withOwnSessions()] {
         for (std::size_t k = 0; k < ref.size(); ++k) {
            const std::size_t i = t == 0 ? k : ref.size() - 1 - k; // other events at the same time
            got[t][i] = own.combine(own.parts(0, x.data() + 2 * i));
         }
      });
   for (auto &l : loops)
      l.join();
   EXPECT_EQ(got[0], ref);
   EXPECT_EQ(got[1], ref);
}
