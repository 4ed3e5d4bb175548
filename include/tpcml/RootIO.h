// tpcml -- reading ROOT files with errors that name the file, tree and branch.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_ROOT_IO_H
#define TPCML_ROOT_IO_H

#include <cstddef>
#include <string>
#include <utility>
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

/// Value of the TParameter<double> `key` stored in `file`, or `fallback` when absent.
/// Throws InputError when the file cannot be opened.
double readParameter(const std::string &file, const std::string &key, double fallback);

/// A borrowed column of `size` values for writeTreeFile. `type` is ROOT's leaf-type code:
/// 'F' float, 'D' double, 'B'/'b' (u)int8, 'S'/'s' (u)int16, 'I'/'i' (u)int32, 'L'/'l' (u)int64, 'O' bool.
struct ColumnView {
   std::string name;
   char type = 'F';
   const void *data = nullptr;
   std::size_t size = 0;
};

/// Bytes of one value of leaf type `type`; throws UsageError for an unknown code.
std::size_t leafTypeSize(char type);

/// What writeTreeFile puts in a file: trees of flat columns plus metadata objects.
struct TreeFileContents {
   std::vector<std::pair<std::string, std::vector<ColumnView>>> trees;
   std::vector<std::pair<std::string, std::string>> named; ///< TNamed(name, title)
   std::vector<std::pair<std::string, double>> parameters; ///< TParameter<double>
   long long autoFlush = 0;                                ///< entries per cluster (0: ROOT's default)
};

/// Write `contents` to a new ROOT file `path` (RECREATE), compiled -- no interpreter, no jitting.
/// Columns of one tree must have equal sizes (UsageError naming the tree and the column).
/// Callers wanting atomic output pass AtomicOutput::tempPath() and commit afterwards.
void writeTreeFile(const std::string &path, const TreeFileContents &contents);

} // namespace tpcml

#endif // TPCML_ROOT_IO_H
