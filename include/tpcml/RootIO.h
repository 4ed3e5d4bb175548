// tpcml -- reading ROOT files with errors that name the file, tree and branch.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_ROOT_IO_H
#define TPCML_ROOT_IO_H

#include <string>
#include <vector>

namespace tpcml {

struct ColumnInfo {
   std::string name;
   std::string type; ///< C++ type name as RDataFrame reports it
};

struct TreeSummary {
   std::string file;
   std::string tree;
   long long entries = 0;
   std::vector<ColumnInfo> columns;
};

/// Names of the TTrees (and RNTuples) at the top level of `file`.
/// Throws InputError when the file is missing or not a readable ROOT file.
std::vector<std::string> listTrees(const std::string &file);

/// Entries and columns of `tree` in `file`. Throws InputError naming the file,
/// and for a missing tree the trees that are there (nearest first).
TreeSummary describeTree(const std::string &file, const std::string &tree);

/// Throws InputError naming the file, tree and each missing column, with the
/// nearest existing column names, unless every name in `columns` exists.
void requireColumns(const std::string &file, const std::string &tree, const std::vector<std::string> &columns);

} // namespace tpcml

#endif // TPCML_ROOT_IO_H
