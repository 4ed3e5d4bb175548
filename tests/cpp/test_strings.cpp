#include "tpcml/core/Strings.h"

#include <gtest/gtest.h>

using namespace tpcml;

TEST(Strings, EditDistance)
{
   EXPECT_EQ(editDistance("", ""), 0u);
   EXPECT_EQ(editDistance("qS1", "qS1"), 0u);
   EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
   EXPECT_EQ(editDistance("qS2c", "qS2"), 1u);
}

TEST(Strings, NearestNamesRanksByDistance)
{
   const std::vector<std::string> cands{"qS1", "qS2", "qS1c", "qS2c", "wS1", "S1TBA"};
   auto near = nearestNames("qs2C", cands);
   ASSERT_FALSE(near.empty());
   EXPECT_EQ(near.front(), "qS2c"); // case-insensitive exact match first
   EXPECT_TRUE(nearestNames("completely_unrelated_name", cands).empty());
}

TEST(Strings, DidYouMean)
{
   EXPECT_EQ(didYouMean("drift_feild", {"drift_field", "g1"}), " (did you mean: drift_field?)");
   EXPECT_EQ(didYouMean("zzzzzzzzzz", {"g1"}), "");
   EXPECT_EQ(join({"a", "b", "c"}), "a, b, c");
}
