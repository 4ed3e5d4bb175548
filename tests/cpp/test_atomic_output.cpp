#include "TempDir.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/Error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace tpcml;
namespace fs = std::filesystem;

TEST(AtomicOutput, CommitRenames)
{
   test::TempDir tmp;
   const auto target = tmp.path("out.root");
   AtomicOutput out(target);
   EXPECT_EQ(fs::path(out.tempPath()).parent_path(), fs::path(target).parent_path());
   EXPECT_EQ(fs::path(out.tempPath()).extension(), ".root");
   std::ofstream(out.tempPath()) << "data";
   EXPECT_FALSE(fs::exists(target));
   out.commit();
   EXPECT_TRUE(fs::exists(target));
   EXPECT_FALSE(fs::exists(out.tempPath()));
}

TEST(AtomicOutput, NoPartialFileOnFailure)
{
   test::TempDir tmp;
   const auto target = tmp.path("out.root");
   std::ofstream(target) << "previous complete result";
   std::string temp;
   try {
      AtomicOutput out(target);
      temp = out.tempPath();
      std::ofstream(out.tempPath()) << "half-writ";
      throw std::runtime_error("job failed mid-way");
   } catch (const std::runtime_error &) {
   }
   EXPECT_FALSE(fs::exists(temp));
   std::ifstream in(target);
   std::string content;
   std::getline(in, content);
   EXPECT_EQ(content, "previous complete result");
}

TEST(AtomicOutput, BadDirectory)
{
   test::TempDir tmp;
   EXPECT_THROW(AtomicOutput(tmp.path("no/such/dir/out.root")), UsageError);
   EXPECT_THROW(AtomicOutput(tmp.dir()), UsageError);
   AtomicOutput never(tmp.path("x.root"));
   EXPECT_THROW(never.commit(), Error);
}

// Issue 13, item 6: an output equal to an input destroyed the input (exit 0).
TEST(RequireDistinctOutput, SamePathLinksAndSpellingsAreRefused)
{
   test::TempDir tmp;
   const auto input = tmp.path("events.root");
   std::ofstream(input) << "precious";
   const auto symlink = tmp.path("link.root"), hardlink = tmp.path("hard.root");
   fs::create_symlink(input, symlink);
   fs::create_hard_link(input, hardlink);
   for (const std::string &out :
        {input, symlink, hardlink, tmp.dir() + "/./events.root", tmp.dir() + "/sub/../events.root"}) {
      if (out.find("sub") != std::string::npos)
         fs::create_directory(tmp.path("sub"));
      try {
         requireDistinctOutput(out, {"other.root", input});
         FAIL() << out << " was accepted";
      } catch (const UsageError &e) {
         EXPECT_NE(std::string(e.what()).find("is the input '" + input + "' (the same file)"), std::string::npos)
             << e.what();
      }
   }
   EXPECT_NO_THROW(requireDistinctOutput(tmp.path("new.root"), {input}));
   EXPECT_NO_THROW(requireDistinctOutput(tmp.path("new.root"), {"", "root://server//f.root"}));
   std::ifstream in(input);
   std::string text;
   in >> text;
   EXPECT_EQ(text, "precious");
}

TEST(RequireMemory, StatesTheLimit)
{
   EXPECT_NO_THROW(requireMemory(1e6, "a small job"));
   if (availableMemory() == 0)
      GTEST_SKIP() << "no /proc/meminfo";
   try {
      requireMemory(1e18, "pairing 1e16 events");
      FAIL();
   } catch (const UsageError &e) {
      EXPECT_NE(std::string(e.what()).find("pairing 1e16 events needs"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("available (limit: 80 % of it)"), std::string::npos) << e.what();
   }
}
