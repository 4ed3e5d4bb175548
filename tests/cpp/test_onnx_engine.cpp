// The ONNX engine from C++: a model assembled byte by byte (protobuf wire format), sessions,
// errors on truncated bytes and unsupported operators, shape helpers.
#include "tpcml/core/Error.h"
#include "tpcml/onnx/Model.h"
#include "tpcml/onnx/Scorer.h"

#include "../../src/onnx/graph/Tensor.h"
#include "OnnxBytes.h"
#include "TempDir.h"

#include <TFile.h>
#include <TTree.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace tpcml::test::onnxbytes; // the protobuf writer

/// y = Relu(x), x of shape [N, 3]; or another single-input op.
std::string unaryModel(const std::string &op = "Relu")
{
   const std::string graph = bytes(1, node(op, "x", "y", "act")) + bytes(2, "g") + bytes(11, valueInfo("x", "N", 3)) +
                             bytes(12, valueInfo("y", "N", 3));
   const std::string opset = bytes(1, "") + num(2, 17);
   return num(1, 8) + bytes(8, opset) + bytes(7, graph);
}

} // namespace

TEST(OnnxEngine, RunsAHandAssembledModel)
{
   const auto model = tpcml::onnx::Model::fromBytes(unaryModel(), "relu");
   ASSERT_EQ(model->inputs().size(), 1u);
   EXPECT_EQ(model->inputs()[0].shape, (std::vector<int64_t>{-1, 3}));
   EXPECT_EQ(model->inputs()[0].eventSize, 3);
   EXPECT_EQ(model->outputs()[0].eventSize, 3);
   EXPECT_TRUE(model->batched());
   EXPECT_EQ(model->opset(), 17);
   tpcml::onnx::Session session(model, 2);
   const float x[] = {-1.f, 2.f, std::numeric_limits<float>::quiet_NaN(), 4.f, -5.f, 6.f, -7.f, 8.f, 9.f};
   float y[9] = {};
   const float *in[] = {x};
   float *out[] = {y};
   session.run(in, out, 3); // a full batch of 2 and a remainder of 1
   const float want[] = {0.f, 2.f, 0.f, 4.f, 0.f, 6.f, 0.f, 8.f, 9.f};
   for (int k = 0; k < 9; ++k) {
      if (k == 2)
         EXPECT_TRUE(std::isnan(y[k])); // NaN propagates
      else
         EXPECT_EQ(y[k], want[k]) << k;
   }
   EXPECT_EQ(session.score(x + 3), 4.f);
}

TEST(OnnxScoreFiles, ScoresWithTheLoadedModelWithoutReadingItsPathAgain)
{
   // Regression (issue 14): tpcml-infer loaded and planned its model twice, once to report on it and
   // once inside scoreFiles. Now it hands the loaded model to the job function, which must not read
   // job.modelPath again: here that path was never written.
   const tpcml::test::TempDir tmp;
   const std::string input = tmp.path("in.root");
   {
      TFile f(input.c_str(), "RECREATE");
      TTree t("events", "events");
      float a = 0.f, b = 0.f, c = 0.f;
      t.Branch("a", &a);
      t.Branch("b", &b);
      t.Branch("c", &c);
      for (int i = 0; i < 5; ++i) {
         a = float(i) - 2.f;
         b = float(i);
         c = -float(i);
         t.Fill();
      }
      t.Write();
   }
   tpcml::onnx::ScoreFilesJob job;
   job.files = {input};
   job.output = tmp.path("out.root");
   job.modelPath = tmp.path("never-written.onnx");
   job.columns = {"a", "b", "c"};
   const auto model = tpcml::onnx::Model::fromBytes(unaryModel(), job.modelPath);
   const tpcml::onnx::ScoreFilesSummary s = tpcml::onnx::scoreFiles(job, model);
   EXPECT_EQ(s.entries, 5u);
   EXPECT_EQ(s.columns, job.columns);
   EXPECT_EQ(s.outputColumn, "score");
   EXPECT_THROW(tpcml::onnx::scoreFiles(job), tpcml::InputError); // the path overload loads the file
}

TEST(OnnxEngine, EveryTruncationIsACleanError)
{
   const std::string full = unaryModel();
   for (std::size_t n = 0; n < full.size(); ++n) {
      try {
         tpcml::onnx::Model::fromBytes(full.substr(0, n), "truncated");
      } catch (const tpcml::InputError &e) {
         EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
      }
   }
}

TEST(OnnxEngine, UnsupportedOperatorNamedWithTheSupportedList)
{
   try {
      tpcml::onnx::Model::fromBytes(unaryModel("Erf"), "m.onnx");
      FAIL() << "expected an InputError";
   } catch (const tpcml::InputError &e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("Erf (node 'act')"), std::string::npos) << what;
      EXPECT_NE(what.find("m.onnx"), std::string::npos) << what;
      EXPECT_NE(what.find("ConvTranspose"), std::string::npos) << what;
   }
   EXPECT_THROW(tpcml::onnx::Model::fromBytes("", "empty.onnx"), tpcml::InputError);
   EXPECT_THROW(tpcml::onnx::Model::load("/nonexistent/model.onnx"), tpcml::InputError);
}

TEST(OnnxTensor, BroadcastTransposeSlice)
{
   using tpcml::onnx::detail::Shape;
   Shape out;
   tpcml::onnx::detail::BroadcastLoop loop;
   ASSERT_TRUE(tpcml::onnx::detail::BroadcastLoop::make({2, 3}, {3}, out, loop));
   EXPECT_EQ(out, (Shape{2, 3}));
   const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {10, 20, 30};
   float y[6];
   tpcml::onnx::detail::broadcastApply(loop, a, b, y, [](float p, float q) { return p + q; });
   EXPECT_EQ(y[4], 25.f);
   EXPECT_FALSE(tpcml::onnx::detail::BroadcastLoop::make({2, 3}, {2}, out, loop));
   float t[6];
   tpcml::onnx::detail::transposeTo(a, {2, 3}, {1, 0}, t);
   EXPECT_EQ((std::vector<float>(t, t + 6)), (std::vector<float>{1, 4, 2, 5, 3, 6}));
   float s[3];
   tpcml::onnx::detail::sliceTo(a, {6}, {5}, {-2}, {3}, s); // a[5::-2]
   EXPECT_EQ((std::vector<float>(s, s + 3)), (std::vector<float>{6, 4, 2}));
}
