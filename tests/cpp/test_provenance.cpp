// The file contract (Provenance.h) and the writing options of RootIO.h: provenance schema, SHA-256,
// detector-mismatch refusal, metadata carried to outputs, RNTuple output, progress counting.
#include "TempDir.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Provenance.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/lxe/NRMedian.h"

#include <ROOT/RDataFrame.hxx>
#include <TFile.h>
#include <TNamed.h>

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

using namespace tpcml;

namespace {

std::string titleOf(const std::string &file, const char *key)
{
   std::unique_ptr<TFile> f(TFile::Open(file.c_str(), "READ"));
   auto *n = f ? f->Get<TNamed>(key) : nullptr;
   return n ? n->GetTitle() : "<absent>";
}

std::string writeSmall(const test::TempDir &dir, const std::string &name, const std::string &detector,
                       const std::string &format = "ttree")
{
   static const std::vector<float> x = {1.f, 2.f, 3.f, 4.f};
   TreeFileContents c;
   c.trees.push_back({"events", {ColumnView{"x", 'F', x.data(), x.size()}}});
   if (!detector.empty())
      c.named.emplace_back("tpcml_detector", detector);
   c.format = format;
   const std::string path = dir.path(name);
   writeTreeFile(path, c);
   return path;
}

} // namespace

TEST(Sha256, KnownVectors)
{
   const test::TempDir dir;
   // FIPS 180-4 examples
   EXPECT_EQ(sha256File(dir.write("empty", "")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
   EXPECT_EQ(sha256File(dir.write("abc", "abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
   EXPECT_THROW(sha256File(dir.path("missing")), InputError);
}

TEST(Provenance, KeysInOrderAndExtrasReplaceOrAppend)
{
   const std::string json = provenanceJson({"tpcml-infer", "--x"}, {"a.root"}, {{"seed", "3"}, {"host", "\"h\""}});
   std::size_t last = 0;
   for (const std::string &key : provenanceKeys()) {
      const auto at = json.find("\"" + key + "\": ");
      ASSERT_NE(at, std::string::npos) << key << " in " << json;
      EXPECT_GT(at, last);
      last = at;
   }
   EXPECT_NE(json.find("\"command_line\": [\"tpcml-infer\", \"--x\"]"), std::string::npos) << json;
   EXPECT_NE(json.find("\"inputs\": [\"a.root\"]"), std::string::npos) << json;
   EXPECT_NE(json.find("\"host\": \"h\""), std::string::npos) << json; // replaced in place
   EXPECT_GT(json.find("\"seed\": 3"), last);                          // appended after the five
   EXPECT_EQ(json.front(), '{');
   EXPECT_EQ(json.back(), '}');
}

TEST(Detector, MismatchRefusedNamingBothUnlessAllowed)
{
   const test::TempDir dir;
   const std::string x1t = writeSmall(dir, "x1t.root", "xenon1t");
   const std::string px2 = writeSmall(dir, "px2.root", "pandax2");
   const std::string none = writeSmall(dir, "none.root", "");
   EXPECT_EQ(readDetector(x1t), "xenon1t");
   EXPECT_EQ(readDetector(none), "");
   try {
      checkDetector({x1t}, "pandax2", "model 'm.onnx' is for detector", false);
      FAIL() << "no InputError";
   } catch (const InputError &e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("'xenon1t'"), std::string::npos) << what;
      EXPECT_NE(what.find("model 'm.onnx' is for detector 'pandax2'"), std::string::npos) << what;
      EXPECT_NE(what.find("--allow-detector-mismatch"), std::string::npos) << what;
   }
   EXPECT_EQ(checkDetector({x1t}, "pandax2", "model", true), "xenon1t");
   EXPECT_EQ(checkDetector({none, px2}, "pandax2", "model", false), "pandax2");
   EXPECT_EQ(checkDetector({none}, "pandax2", "model", false), "");
   EXPECT_THROW(checkDetector({px2, x1t}, "", "model", false), InputError); // two detectors in one dataset
}

TEST(OutputMetadata, WrittenAndNRMedianCarried)
{
   const test::TempDir dir;
   const std::string in = writeSmall(dir, "in.root", "pandax2");
   NRMedianCurve({2., 20., 200.}, {2., 1.8, 1.6}).writeTo(in);
   const std::string model = dir.write("m.onnx", "not really a model");
   const std::string out = writeSmall(dir, "out.root", "", "rntuple");
   OutputMetadata meta;
   meta.detector = "pandax2";
   meta.provenance = provenanceJson({"exe"}, {in});
   meta.model = modelJson(model, {{"tpcml.detector", "pandax2"}});
   meta.carryFrom = {"", dir.path("absent.root"), in};
   writeOutputMetadata(out, meta);
   EXPECT_EQ(titleOf(out, "tpcml_detector"), "pandax2");
   EXPECT_EQ(titleOf(out, "tpcml_provenance"), meta.provenance);
   EXPECT_NE(titleOf(out, "tpcml_model").find("\"sha256\": \"" + sha256File(model) + "\""), std::string::npos);
   EXPECT_NEAR(NRMedianCurve::fromFile(out)(20.), 1.8, 1e-9);
   EXPECT_EQ(*ROOT::RDataFrame("events", out).Count(), 4u); // the RNTuple is still there
   EXPECT_THROW(writeOutputMetadata(dir.path("missing/x.root"), meta), tpcml::Error);
}

TEST(Format, RNTupleWrittenAndReadBack)
{
   const test::TempDir dir;
   const std::vector<double> d = {0.5, 1.5, 2.5};
   const std::vector<int> i = {7, 8, 9};
   const std::vector<unsigned char> b = {1, 0, 1};
   TreeFileContents c;
   c.trees.push_back({"events",
                      {ColumnView{"d", 'D', d.data(), d.size()}, ColumnView{"i", 'I', i.data(), i.size()},
                       ColumnView{"b", 'O', b.data(), b.size()}}});
   c.named.emplace_back("tpcml_detector", "pandax2");
   c.format = "rntuple";
   const std::string path = dir.path("n.root");
   writeTreeFile(path, c);
   EXPECT_EQ(describeTree(path, "events").format, "RNTuple");
   ROOT::RDataFrame df("events", path);
   EXPECT_EQ(*df.Take<double>("d"), d);
   EXPECT_EQ(*df.Take<std::int32_t>("i"), i);
   EXPECT_EQ(df.Take<bool>("b")->at(1), false);
   EXPECT_EQ(titleOf(path, "tpcml_detector"), "pandax2");
   c.format = "parquet";
   EXPECT_THROW(writeTreeFile(dir.path("p.root"), c), UsageError);
   EXPECT_THROW(checkFormat("TTree"), UsageError); // exact spelling
   EXPECT_EQ(snapshotOptions("rntuple").fOutputFormat, ROOT::RDF::ESnapshotOutputFormat::kRNTuple);
   EXPECT_EQ(snapshotOptions("ttree").fOutputFormat, ROOT::RDF::ESnapshotOutputFormat::kTTree);
   EXPECT_FALSE(snapshotOptions("ttree").fLazy);
}

TEST(Progress, CountsEveryEntryOfAttachedLoops)
{
   ROOT::RDataFrame a(1000), b(601);
   EventProgress progress("test", 1601, true);
   progress.attach(a);
   progress.attach(b);
   EXPECT_EQ(*a.Count(), 1000u);
   EXPECT_EQ(*b.Count(), 601u);
   EXPECT_EQ(progress.done(), 1601u);
   progress.add(9); // a loop of tpcml's own (tpcml-pair's chunks)
   EXPECT_EQ(progress.done(), 1610u);
   EventProgress off("test", 100, false);
   off.attach(a);
   EXPECT_EQ(off.done(), 0u);
}
