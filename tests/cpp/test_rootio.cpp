#include "TempDir.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"

#include <TFile.h>
#include <TTree.h>

#include <gtest/gtest.h>

using namespace tpcml;

namespace {
std::string makeFile(const test::TempDir &tmp)
{
   const std::string path = tmp.path("events.root");
   TFile f(path.c_str(), "RECREATE");
   TTree t("events", "test events");
   float qS1 = 0, qS2 = 0;
   int run = 0;
   t.Branch("qS1", &qS1);
   t.Branch("qS2", &qS2);
   t.Branch("run", &run);
   for (int i = 0; i < 25; ++i) {
      qS1 = static_cast<float>(i);
      qS2 = 100.f * static_cast<float>(i);
      run = 9;
      t.Fill();
   }
   t.Write();
   return path;
}
} // namespace

TEST(RootIO, DescribeTree)
{
   test::TempDir tmp;
   const auto path = makeFile(tmp);
   EXPECT_EQ(listTrees(path), std::vector<std::string>{"events"});
   const auto s = describeTree(path, "events");
   EXPECT_EQ(s.entries, 25);
   ASSERT_EQ(s.columns.size(), 3u);
   EXPECT_EQ(s.columns[0].name, "qS1");
   EXPECT_EQ(s.columns[0].type, "Float_t");
   EXPECT_EQ(s.columns[2].type, "Int_t");
   EXPECT_NO_THROW(requireColumns(path, "events", {"qS1", "run"}));
}

TEST(RootIO, ErrorsNameFileTreeAndColumn)
{
   test::TempDir tmp;
   const auto path = makeFile(tmp);
   try {
      describeTree(path, "event");
      FAIL();
   } catch (const InputError &e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("no tree 'event' in '" + path + "' (did you mean: events?)"), std::string::npos) << msg;
   }
   try {
      requireColumns(path, "events", {"qS1", "qs2c"});
      FAIL();
   } catch (const InputError &e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("lacks column 'qs2c' (did you mean: qS2"), std::string::npos) << msg;
   }
   EXPECT_THROW(listTrees(tmp.path("missing.root")), InputError);
   const auto junk = tmp.write("junk.root", "this is not a ROOT file\n");
   try {
      listTrees(junk);
      FAIL();
   } catch (const InputError &e) {
      EXPECT_NE(std::string(e.what()).find("not a readable ROOT file"), std::string::npos) << e.what();
   }
}

// Issue 13, item 10: one normalisation of column types for every door.
TEST(RootIO, CanonicalColumnTypeSpellings)
{
   EXPECT_EQ(canonicalColumnType("Float_t"), "float");
   EXPECT_EQ(canonicalColumnType("std::int32_t"), "int");
   EXPECT_EQ(canonicalColumnType("Int_t"), "int");
   EXPECT_EQ(canonicalColumnType("ROOT::VecOps::RVec<std::int32_t>"), "int[]");
   EXPECT_EQ(canonicalColumnType("ROOT::RVecD"), "double[]");
   EXPECT_EQ(canonicalColumnType("vector<double>"), "double[]");
   EXPECT_EQ(canonicalColumnType("std::vector<float>"), "float[]");
   EXPECT_EQ(canonicalColumnType("ROOT::VecOps::RVec<std::string>"), "");
   EXPECT_EQ(canonicalColumnType("TLorentzVector"), "");
}

TEST(RootIO, DefineAsConvertsDoublesAndRefusesOtherTypes)
{
   ROOT::RDF::RNode df = ROOT::RDataFrame(3)
                             .Define("d", [](ULong64_t e) { return 0.5 * double(e); }, {"rdfentry_"})
                             .Define("vd", [] { return std::vector<double>{1.5, 2.5}; })
                             .Define("i", [] { return std::int32_t(7); })
                             .Define("s", [] { return std::string("x"); });
   const std::string d = defineAs(df, "d", ColumnKind::kReal, "test data");
   const std::string vd = defineAs(df, "vd", ColumnKind::kRealArray, "test data");
   EXPECT_EQ(defineAs(df, "i", ColumnKind::kInt32, "test data"), "i");
   EXPECT_EQ(df.GetColumnType(d), "float");
   EXPECT_EQ(*df.Sum<float>(d), 1.5f);
   auto arrays = df.Take<ROOT::RVec<float>>(vd);
   EXPECT_EQ(arrays->at(2).size(), 2u);
   EXPECT_EQ(arrays->at(2)[1], 2.5f);
   try {
      defineAs(df, "s", ColumnKind::kReal, "tree 'events' in 'a.root'");
      FAIL();
   } catch (const InputError &e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("column 's' of tree 'events' in 'a.root' has type"), std::string::npos) << what;
      EXPECT_NE(what.find("expected a float or double scalar"), std::string::npos) << what;
   }
   EXPECT_THROW(defineAs(df, "d", ColumnKind::kRealArray, "test data"), InputError);
}

TEST(RootIO, MixedTTreeAndRNTupleInputsAreRefused)
{
   test::TempDir tmp;
   const std::string tree = makeFile(tmp);
   const std::string ntuple = tmp.path("ntuple.root");
   ROOT::RDataFrame(4).Define("qS1", [] { return 1.f; }).Snapshot("events", ntuple, {"qS1"}, [] {
      ROOT::RDF::RSnapshotOptions o;
      o.fOutputFormat = ROOT::RDF::ESnapshotOutputFormat::kRNTuple;
      return o;
   }());
   EXPECT_EQ(describeTree(ntuple, "events").format, "RNTuple");
   EXPECT_EQ(requireOneFormat({describeTree(tree, "events"), describeTree(tree, "events")}), "TTree");
   try {
      requireOneFormat({describeTree(tree, "events"), describeTree(ntuple, "events")});
      FAIL();
   } catch (const InputError &e) {
      EXPECT_NE(std::string(e.what()).find("is a TTree in '" + tree + "' but a RNTuple in '" + ntuple + "'"),
                std::string::npos)
          << e.what();
   }
}
