#include "TempDir.h"

#include "tpcml/Error.h"
#include "tpcml/RootIO.h"

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
