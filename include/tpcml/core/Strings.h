// tpcml -- small string helpers used by error messages.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_STRINGS_H
#define TPCML_STRINGS_H

#include <cstddef>
#include <string>
#include <vector>

namespace tpcml {

/// Levenshtein edit distance between a and b (case-sensitive).
std::size_t editDistance(const std::string &a, const std::string &b);

/// Up to maxCount candidates nearest to name, best first (ties keep input order).
/// Candidates farther than max(2, name.size()/2) edits are dropped unless one
/// contains the other.
std::vector<std::string> nearestNames(const std::string &name, const std::vector<std::string> &candidates,
                                      std::size_t maxCount = 3);

/// "a, b, c".
std::string join(const std::vector<std::string> &items, const std::string &sep = ", ");

/// " (did you mean: a, b?)" or "" when nothing is near.
std::string didYouMean(const std::string &name, const std::vector<std::string> &candidates);

/// `text` with every byte that is not part of valid UTF-8 replaced by '?' (messages that
/// quote names read from files must stay printable and convertible to Python str).
std::string validUtf8(const std::string &text);

/// `s` as a JSON string literal, quotes included (", \\ and control characters escaped).
std::string jsonString(const std::string &s);

} // namespace tpcml

#endif // TPCML_STRINGS_H
