// writeTreeFile / ColumnView / leafTypeSize / readParameter (RootIO.h).
#include "TempDir.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"

#include <TFile.h>
#include <TNamed.h>
#include <TParameter.h>
#include <TTree.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace tpcml;

namespace {

std::string errorOf(const std::function<void()> &f)
{
   try {
      f();
   } catch (const UsageError &e) {
      return e.what();
   }
   return "<no UsageError thrown>";
}

} // namespace

TEST(LeafTypeSize, KnownCodes)
{
   EXPECT_EQ(leafTypeSize('B'), 1u);
   EXPECT_EQ(leafTypeSize('b'), 1u);
   EXPECT_EQ(leafTypeSize('O'), 1u);
   EXPECT_EQ(leafTypeSize('S'), 2u);
   EXPECT_EQ(leafTypeSize('s'), 2u);
   EXPECT_EQ(leafTypeSize('F'), sizeof(float));
   EXPECT_EQ(leafTypeSize('I'), 4u);
   EXPECT_EQ(leafTypeSize('i'), 4u);
   EXPECT_EQ(leafTypeSize('D'), sizeof(double));
   EXPECT_EQ(leafTypeSize('L'), 8u);
   EXPECT_EQ(leafTypeSize('l'), 8u);
   for (char bad : {'f', 'd', 'C', 'X', '\0', 'G'})
      EXPECT_THROW(leafTypeSize(bad), UsageError) << "code " << static_cast<int>(bad);
   const std::string msg = errorOf([] { leafTypeSize('X'); });
   EXPECT_NE(msg.find("'X'"), std::string::npos) << msg;
}

TEST(WriteTreeFile, RoundTripAllTypes)
{
   test::TempDir tmp;
   const std::string path = tmp.path("out.root");
   const std::vector<float> f{1.5f, -2.25f, 3.4028235e38f, 1e-30f};
   const std::vector<double> d{0.1, -1e300, 2.718281828459045, 5e-324};
   const std::vector<std::int32_t> i32{0, -1, std::numeric_limits<std::int32_t>::min(), 2147483647};
   const std::vector<std::uint32_t> u32{0u, 1u, 4000000000u, 4294967295u};
   const std::vector<std::int64_t> i64{-5, std::numeric_limits<std::int64_t>::min(), 1LL << 40, 7};
   const std::vector<std::uint64_t> u64{0u, 18446744073709551615ULL, 1ULL << 63, 12345678901234567ULL};
   const std::array<bool, 4> flags{true, false, false, true};
   const std::vector<std::int8_t> i8{-128, 0, 5, 127};
   const std::vector<std::uint16_t> u16{0, 65535, 300, 1};
   const std::vector<float> other{7.f, 8.f};

   TreeFileContents c;
   c.trees.push_back({"events",
                      {{"f", 'F', f.data(), f.size()},
                       {"d", 'D', d.data(), d.size()},
                       {"i32", 'I', i32.data(), i32.size()},
                       {"u32", 'i', u32.data(), u32.size()},
                       {"i64", 'L', i64.data(), i64.size()},
                       {"u64", 'l', u64.data(), u64.size()},
                       {"flag", 'O', flags.data(), flags.size()},
                       {"i8", 'B', i8.data(), i8.size()},
                       {"u16", 's', u16.data(), u16.size()}}});
   c.trees.push_back({"other", {{"v", 'F', other.data(), other.size()}}});
   c.named.push_back({"tpcml_detector", "pandax2"});
   c.named.push_back({"note", "a title with spaces"});
   c.parameters.push_back({"tpcml_livetime", 21098880.});
   c.parameters.push_back({"tpcml_isolated_s1_rate", 2.0});
   writeTreeFile(path, c);

   ASSERT_TRUE(std::filesystem::exists(path));
   EXPECT_EQ(listTrees(path), (std::vector<std::string>{"events", "other"}));
   const auto s = describeTree(path, "events");
   EXPECT_EQ(s.entries, 4);
   ASSERT_EQ(s.columns.size(), 9u);
   // describeTree lists the columns by name; each has the type of its leaf code
   const std::map<std::string, std::string> types{{"f", "Float_t"},   {"d", "Double_t"},   {"i32", "Int_t"},
                                                  {"u32", "UInt_t"},  {"i64", "Long64_t"}, {"u64", "ULong64_t"},
                                                  {"flag", "Bool_t"}, {"i8", "Char_t"},    {"u16", "UShort_t"}};
   for (const auto &col : s.columns) {
      ASSERT_EQ(types.count(col.name), 1u) << col.name;
      EXPECT_EQ(col.type, types.at(col.name)) << col.name;
   }

   std::unique_ptr<TFile> file(TFile::Open(path.c_str(), "READ"));
   ASSERT_TRUE(file && !file->IsZombie());
   auto *t = file->Get<TTree>("events");
   ASSERT_NE(t, nullptr);
   float vf = 0;
   double vd = 0;
   Int_t vi32 = 0;
   UInt_t vu32 = 0;
   Long64_t vi64 = 0;
   ULong64_t vu64 = 0;
   Bool_t vflag = false;
   Char_t vi8 = 0;
   UShort_t vu16 = 0;
   t->SetBranchAddress("f", &vf);
   t->SetBranchAddress("d", &vd);
   t->SetBranchAddress("i32", &vi32);
   t->SetBranchAddress("u32", &vu32);
   t->SetBranchAddress("i64", &vi64);
   t->SetBranchAddress("u64", &vu64);
   t->SetBranchAddress("flag", &vflag);
   t->SetBranchAddress("i8", &vi8);
   t->SetBranchAddress("u16", &vu16);
   for (Long64_t e = 0; e < 4; ++e) {
      const auto k = static_cast<std::size_t>(e);
      t->GetEntry(e);
      EXPECT_EQ(vf, f[k]) << e;
      EXPECT_EQ(vd, d[k]) << e;
      EXPECT_EQ(vi32, i32[k]) << e;
      EXPECT_EQ(vu32, u32[k]) << e;
      EXPECT_EQ(vi64, i64[k]) << e;
      EXPECT_EQ(vu64, u64[k]) << e;
      EXPECT_EQ(vflag, flags[k]) << e;
      EXPECT_EQ(vi8, i8[k]) << e;
      EXPECT_EQ(vu16, u16[k]) << e;
   }
   t->ResetBranchAddresses();

   auto *o = file->Get<TTree>("other");
   ASSERT_NE(o, nullptr);
   EXPECT_EQ(o->GetEntries(), 2);

   std::unique_ptr<TNamed> named(file->Get<TNamed>("tpcml_detector"));
   ASSERT_NE(named, nullptr);
   EXPECT_STREQ(named->GetTitle(), "pandax2");
   std::unique_ptr<TNamed> note(file->Get<TNamed>("note"));
   ASSERT_NE(note, nullptr);
   EXPECT_STREQ(note->GetTitle(), "a title with spaces");
   std::unique_ptr<TParameter<double>> live(file->Get<TParameter<double>>("tpcml_livetime"));
   ASSERT_NE(live, nullptr);
   EXPECT_EQ(live->GetVal(), 21098880.);
   file->Close();

   // readParameter: stored value, fallback when absent or of another class.
   EXPECT_EQ(readParameter(path, "tpcml_livetime", -1.), 21098880.);
   EXPECT_EQ(readParameter(path, "tpcml_isolated_s1_rate", -1.), 2.0);
   EXPECT_EQ(readParameter(path, "tpcml_isolated_s2_rate", -7.), -7.);
   EXPECT_EQ(readParameter(path, "tpcml_detector", -3.), -3.); // a TNamed, not a TParameter<double>
   EXPECT_THROW(readParameter(tmp.path("missing.root"), "tpcml_livetime", 0.), InputError);
}

TEST(WriteTreeFile, AutoFlushAndEmptyTree)
{
   test::TempDir tmp;
   const std::string path = tmp.path("flush.root");
   std::vector<double> v(1000);
   for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<double>(i) * 0.5;
   TreeFileContents c;
   c.autoFlush = 100;
   c.trees.push_back({"big", {{"v", 'D', v.data(), v.size()}}});
   c.trees.push_back({"empty", {{"e", 'F', nullptr, 0}}});
   writeTreeFile(path, c);

   std::unique_ptr<TFile> file(TFile::Open(path.c_str(), "READ"));
   ASSERT_TRUE(file && !file->IsZombie());
   auto *t = file->Get<TTree>("big");
   ASSERT_NE(t, nullptr);
   EXPECT_EQ(t->GetEntries(), 1000);
   EXPECT_EQ(t->GetAutoFlush(), 100);
   double x = -1.;
   t->SetBranchAddress("v", &x);
   for (Long64_t e : {0LL, 99LL, 100LL, 999LL}) {
      t->GetEntry(e);
      EXPECT_EQ(x, static_cast<double>(e) * 0.5);
   }
   t->ResetBranchAddresses();
   auto *empty = file->Get<TTree>("empty");
   ASSERT_NE(empty, nullptr);
   EXPECT_EQ(empty->GetEntries(), 0);
   EXPECT_NE(empty->GetBranch("e"), nullptr);
}

TEST(WriteTreeFile, UnequalColumnSizesNameTreeAndColumn)
{
   test::TempDir tmp;
   const std::string path = tmp.path("bad.root");
   const std::vector<float> a{1.f, 2.f, 3.f}, b{1.f, 2.f};
   TreeFileContents c;
   c.trees.push_back({"ok", {{"a", 'F', a.data(), a.size()}}});
   c.trees.push_back({"s2", {{"qS2", 'F', a.data(), a.size()}, {"wS2", 'F', b.data(), b.size()}}});
   const std::string msg = errorOf([&] { writeTreeFile(path, c); });
   EXPECT_NE(msg.find("tree 's2'"), std::string::npos) << msg;
   EXPECT_NE(msg.find("column 'wS2' has 2 entries"), std::string::npos) << msg;
   EXPECT_NE(msg.find("'qS2' has 3"), std::string::npos) << msg;
   // validated before the file is created
   EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(WriteTreeFile, InvalidColumnsThrowBeforeWriting)
{
   test::TempDir tmp;
   const std::string path = tmp.path("bad.root");
   const std::vector<float> a{1.f, 2.f};
   {
      TreeFileContents c;
      c.trees.push_back({"events", {{"a", 'F', a.data(), a.size()}, {"b", 'Q', a.data(), a.size()}}});
      const std::string msg = errorOf([&] { writeTreeFile(path, c); });
      EXPECT_NE(msg.find("unknown ROOT leaf type 'Q'"), std::string::npos) << msg;
   }
   {
      TreeFileContents c;
      c.trees.push_back({"events", {{"a", 'F', a.data(), a.size()}, {"b", 'F', nullptr, a.size()}}});
      const std::string msg = errorOf([&] { writeTreeFile(path, c); });
      EXPECT_NE(msg.find("column 'b' has no data"), std::string::npos) << msg;
   }
   {
      TreeFileContents c;
      c.trees.push_back({"nothing", {}});
      const std::string msg = errorOf([&] { writeTreeFile(path, c); });
      EXPECT_NE(msg.find("tree 'nothing' has no columns"), std::string::npos) << msg;
   }
   EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(WriteTreeFile, RecreatesExistingFile)
{
   test::TempDir tmp;
   const std::string path = tmp.path("out.root");
   const std::vector<int> a{1, 2, 3}, b{4};
   TreeFileContents first;
   first.trees.push_back({"first", {{"a", 'I', a.data(), a.size()}}});
   writeTreeFile(path, first);
   TreeFileContents second;
   second.trees.push_back({"second", {{"b", 'I', b.data(), b.size()}}});
   writeTreeFile(path, second);
   EXPECT_EQ(listTrees(path), std::vector<std::string>{"second"});
   EXPECT_EQ(describeTree(path, "second").entries, 1);
}

// A fixed-length array column (width k): TTree leaf `name[k]/T`, RNTuple std::array<T, k>; RDataFrame reads both
// as RVec<T> with the values written, describeTree gives the length, chunks append in order.
TEST(WriteTreeFile, FixedLengthArraysInBothFormats)
{
   test::TempDir tmp;
   const std::vector<float> a{0.f, 1.f, 2.f, 10.f, 11.f, 12.f}; // 2 entries x 3
   const std::vector<float> b{20.f, 21.f, 22.f};                // a second chunk of 1 entry
   const std::vector<std::int32_t> id{7, 8}, id2{9};
   const std::vector<std::int32_t> pair{1, 2, 3, 4}, pair2{5, 6};
   for (const std::string format : {"ttree", "rntuple"}) {
      const std::string path = tmp.path("arrays_" + format + ".root");
      {
         TreeFileWriter w(path, 0, format);
         w.append("events", {{"id", 'I', id.data(), 2}, {"a", 'F', a.data(), 2, 3}, {"p", 'I', pair.data(), 2, 2}});
         w.append("events", {{"id", 'I', id2.data(), 1}, {"a", 'F', b.data(), 1, 3}, {"p", 'I', pair2.data(), 1, 2}});
         // a chunk with another width is refused, naming the column and both widths
         const std::string msg = errorOf([&] {
            w.append("events",
                     {{"id", 'I', id2.data(), 1}, {"a", 'F', b.data(), 1, 2}, {"p", 'I', pair2.data(), 1, 2}});
         });
         EXPECT_NE(msg.find("'a' (2 values per entry)"), std::string::npos) << msg;
         EXPECT_NE(msg.find("(3)"), std::string::npos) << msg;
         w.close();
      }
      const auto s = describeTree(path, "events");
      EXPECT_EQ(s.entries, 3) << format;
      std::map<std::string, std::size_t> lengths;
      for (const auto &c : s.columns)
         lengths[c.name] = c.length;
      EXPECT_EQ(lengths, (std::map<std::string, std::size_t>{{"a", 3}, {"id", 0}, {"p", 2}})) << format;
      ROOT::RDataFrame df("events", path);
      ROOT::RDF::RNode node = df;
      const std::string col = defineAs(node, "a", ColumnKind::kRealArray, format);
      const auto rows = node.Take<ROOT::RVec<float>>(col).GetValue();
      ASSERT_EQ(rows.size(), 3u) << format;
      for (std::size_t e = 0; e < 3; ++e)
         for (std::size_t k = 0; k < 3; ++k)
            EXPECT_EQ(rows[e][k], e < 2 ? a[e * 3 + k] : b[k]) << format << " entry " << e << " value " << k;
      const std::string pcol = defineAs(node, "p", ColumnKind::kInt32Array, format);
      const auto prow = node.Take<ROOT::RVec<int>>(pcol).GetValue();
      ASSERT_EQ(prow.size(), 3u);
      EXPECT_EQ(prow[2][1], 6) << format;
   }
}
