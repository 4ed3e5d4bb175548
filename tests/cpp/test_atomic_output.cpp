#include "TempDir.h"

#include "tpcml/AtomicFile.h"
#include "tpcml/Error.h"

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
