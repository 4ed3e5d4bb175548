#include "tpcml/core/Strings.h"

#include <algorithm>
#include <iomanip>
#include <numeric>
#include <sstream>

namespace tpcml {

std::size_t editDistance(const std::string &a, const std::string &b)
{
   std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
   std::iota(prev.begin(), prev.end(), std::size_t{0});
   for (std::size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
         const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
         cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
      }
      std::swap(prev, cur);
   }
   return prev[b.size()];
}

namespace {
std::string lower(std::string s)
{
   std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
   return s;
}
} // namespace

std::vector<std::string> nearestNames(const std::string &name, const std::vector<std::string> &candidates,
                                      std::size_t maxCount)
{
   const std::string lname = lower(name);
   const std::size_t limit = std::max<std::size_t>(2, name.size() / 2);
   std::vector<std::pair<std::size_t, std::size_t>> scored; // (distance, index)
   for (std::size_t i = 0; i < candidates.size(); ++i) {
      const std::string lc = lower(candidates[i]);
      std::size_t d = editDistance(lname, lc);
      const bool contains =
          !lname.empty() && (lc.find(lname) != std::string::npos || lname.find(lc) != std::string::npos);
      if (d <= limit || contains)
         scored.emplace_back(contains ? std::min(d, limit) : d, i);
   }
   std::stable_sort(scored.begin(), scored.end(), [](auto &x, auto &y) { return x.first < y.first; });
   std::vector<std::string> out;
   for (std::size_t k = 0; k < scored.size() && out.size() < maxCount; ++k)
      out.push_back(candidates[scored[k].second]);
   return out;
}

std::string join(const std::vector<std::string> &items, const std::string &sep)
{
   std::string out;
   for (std::size_t i = 0; i < items.size(); ++i) {
      if (i)
         out += sep;
      out += items[i];
   }
   return out;
}

std::string didYouMean(const std::string &name, const std::vector<std::string> &candidates)
{
   auto near = nearestNames(name, candidates);
   if (near.empty())
      return {};
   return " (did you mean: " + join(near) + "?)";
}

std::string validUtf8(const std::string &text)
{
   std::string out;
   out.reserve(text.size());
   std::size_t k = 0;
   while (k < text.size()) {
      const auto c = static_cast<unsigned char>(text[k]);
      const std::size_t extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : 9;
      bool ok = extra < 9 && k + extra < text.size();
      for (std::size_t e = 1; ok && e <= extra; ++e)
         ok = (static_cast<unsigned char>(text[k + e]) >> 6) == 0x2;
      if (ok) {
         out.append(text, k, extra + 1);
         k += extra + 1;
      } else {
         out += '?';
         ++k;
      }
   }
   return out;
}

std::string jsonString(const std::string &s)
{
   std::ostringstream os;
   os << '"';
   for (char c : s) {
      switch (c) {
      case '"':
         os << "\\\"";
         break;
      case '\\':
         os << "\\\\";
         break;
      case '\n':
         os << "\\n";
         break;
      case '\t':
         os << "\\t";
         break;
      default:
         if (static_cast<unsigned char>(c) < 0x20)
            os << "\\u" << std::hex << std::setw(4) << std::setfill('0') << int(c) << std::dec;
         else
            os << c;
      }
   }
   os << '"';
   return os.str();
}

} // namespace tpcml
