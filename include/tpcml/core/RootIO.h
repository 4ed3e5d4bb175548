// tpcml -- reading ROOT files with errors that name the file, tree and branch.
// Include guard, not #pragma once: cling may reach this header through both the
// installed and the build-time include path, and must see one definition.
#ifndef TPCML_ROOT_IO_H
#define TPCML_ROOT_IO_H

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RSnapshotOptions.hxx>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tpcml {

struct ColumnInfo {
   std::string name;
   std::string type; ///< C++ type name as RDataFrame reports it
   std::size_t length =
       0; ///< values per entry of a fixed-length array column (TTree `x[k]`, RNTuple std::array); 0 else
};

struct TreeSummary {
   std::string file;
   std::string tree;
   std::string format; ///< "TTree" or "RNTuple"
   long long entries = 0;
   std::vector<ColumnInfo> columns;
};

/// Names of the TTrees (and RNTuples) at the top level of `file`.
/// Throws InputError when the file is missing or not a readable ROOT file.
std::vector<std::string> listTrees(const std::string &file);

/// Entries and columns of `tree` in `file` (with the length of each fixed-length array column). Throws InputError
/// naming the file, and for a missing tree the trees that are there (nearest first).
TreeSummary describeTree(const std::string &file, const std::string &tree);

/// Throws InputError naming the file, tree and each missing column, with the
/// nearest existing column names, unless every name in `columns` exists.
void requireColumns(const std::string &file, const std::string &tree, const std::vector<std::string> &columns);
/// Same, on a summary already made (the file is not opened again).
void requireColumns(const TreeSummary &summary, const std::vector<std::string> &columns);

/// Throws InputError when the tree is a TTree in some of the files summarised and an RNTuple in
/// others (ROOT cannot read such a mix as one dataset), naming one file of each. Returns the format.
std::string requireOneFormat(const std::vector<TreeSummary> &summaries);

/// What a door reads from a column. Every door normalises its inputs through defineAs, so that
/// TTree and RNTuple columns written by ROOT, uproot or tpcml are read alike (docs/doors.md).
enum class ColumnKind {
   kReal,       ///< float: a float or double scalar, converted to float32
   kInt32,      ///< int: a 32-bit integer scalar, whatever its spelling (Int_t, int, std::int32_t)
   kInt64,      ///< Long64_t: any integer scalar (ids, run numbers)
   kRealArray,  ///< RVec<float>: an RVec or std::vector of float or double, converted to float32
   kInt32Array, ///< RVec<int>: an RVec or std::vector of 32-bit integers
};

/// "float", "double", "int" ... for a scalar type name as RDataFrame reports it (TTree or
/// RNTuple spelling), with "[]" appended for an RVec / std::vector of it; "" for anything else.
std::string canonicalColumnType(const std::string &type);

/// Makes column `from` of `df` readable as `kind`'s C++ type: returns `from` itself when it is
/// already of that type, else defines (compiled, no jitting) a converted copy named
/// "tpcml_<kind>_<from>" and returns that name. Throws InputError naming the column, its type,
/// `where` (e.g. "tree 'events' in 'a.root'") and the accepted types for any other type.
std::string defineAs(ROOT::RDF::RNode &df, const std::string &from, ColumnKind kind, const std::string &where);

/// Entry-ordered parallel work over a dataset, the one scheme behind tpcml-infer /
/// score_files and tpcml-raster (ImplicitMT and its Snapshot do not keep entry order):
/// entries [0, total) of `tree` in `files` are split into `parts` contiguous ranges, each with
/// its own single-threaded RDataFrame. `book(part, node, begin, end)` books results on each
/// range's node; the graphs are built on the calling thread, one after another (graph building
/// goes through ROOT's interpreter, not thread-safe); then `run(part, begin, end)` runs on one
/// thread per part (reading a booked result runs that part's event loop). The first exception
/// of any part is rethrown. rdfentry_ inside a part is the dataset's entry number.
void runInRanges(const std::vector<std::string> &files, const std::string &tree, unsigned long long total,
                 unsigned parts,
                 const std::function<void(unsigned, ROOT::RDF::RNode, unsigned long long, unsigned long long)> &book,
                 const std::function<void(unsigned, unsigned long long, unsigned long long)> &run);

/// While alive, ROOT's messages (warnings and errors of TFile, RDataFrame, Snapshot ...) go to
/// ROOT's own default handler (stderr, gErrorIgnoreLevel respected) instead of whatever handler
/// was installed -- PyROOT's calls into Python, which must not happen on a thread without the
/// GIL (a segfault). Nests and counts across threads: the first guard swaps, the last restores.
class RootMessagesToStderr {
public:
   RootMessagesToStderr();
   ~RootMessagesToStderr();
   RootMessagesToStderr(const RootMessagesToStderr &) = delete;
   RootMessagesToStderr &operator=(const RootMessagesToStderr &) = delete;
};

/// The formats tpcml writes a tree in: "ttree" (the default) and "rntuple" (docs/event-model.md §1).
/// Throws UsageError naming `option` (e.g. "--format"), the value and the accepted ones otherwise.
void checkFormat(const std::string &format, const std::string &option = "--format");

/// Snapshot options writing `format` ("ttree" or "rntuple", checked), not lazy.
ROOT::RDF::RSnapshotOptions snapshotOptions(const std::string &format);

/// Progress of RDataFrame event loops on stderr (never stdout): "<what>: N / TOTAL entries (P %)",
/// redrawn in place on a terminal, one line per 10 % otherwise; a last line when destroyed. Counts
/// the entries of every node attach()ed (several ranges of one dataset add up). Disabled: nothing
/// is booked or printed. Equivalent to ROOT::RDF::Experimental::AddProgressBar, which prints to stdout.
class EventProgress {
public:
   EventProgress(std::string what, unsigned long long total, bool enabled);
   ~EventProgress();
   EventProgress(const EventProgress &) = delete;
   EventProgress &operator=(const EventProgress &) = delete;
   /// Books a counter on `node`, run with the node's next event loop.
   void attach(ROOT::RDF::RNode node);
   /// Counts `n` entries done by a loop of tpcml's own (not RDataFrame), e.g. a chunk of pairs.
   void add(unsigned long long n);
   /// Entries counted so far.
   unsigned long long done() const;

   struct State;

private:
   std::shared_ptr<State> m_state;
};

/// Value of the TParameter<double> `key` stored in `file`, or `fallback` when absent.
/// Throws InputError when the file cannot be opened.
double readParameter(const std::string &file, const std::string &key, double fallback);

/// A borrowed column of `size` entries for writeTreeFile. `type` is ROOT's leaf-type code:
/// 'F' float, 'D' double, 'B'/'b' (u)int8, 'S'/'s' (u)int16, 'I'/'i' (u)int32, 'L'/'l' (u)int64, 'O' bool.
/// `width` 0 is one value per entry; `width` k >= 1 a fixed-length array of k values per entry (data: size x k
/// values, row-major), written as a TTree leaf `name[k]/T` or an RNTuple field `std::array<T, k>`: RDataFrame
/// reads both as ROOT::RVec<T>, uproot as a (size, k) array (docs/event-model.md §1).
struct ColumnView {
   std::string name;
   char type = 'F';
   const void *data = nullptr;
   std::size_t size = 0;
   std::size_t width = 0;
};

/// Bytes of one value of leaf type `type`; throws UsageError for an unknown code.
std::size_t leafTypeSize(char type);

/// What writeTreeFile puts in a file: trees of flat columns plus metadata objects.
struct TreeFileContents {
   std::vector<std::pair<std::string, std::vector<ColumnView>>> trees;
   std::vector<std::pair<std::string, std::string>> named; ///< TNamed(name, title)
   std::vector<std::pair<std::string, double>> parameters; ///< TParameter<double>
   long long autoFlush = 0;                                ///< entries per cluster (0: ROOT's default)
   std::string format = "ttree";                           ///< "ttree" or "rntuple" (checkFormat)
};

/// Write `contents` to a new ROOT file `path` (RECREATE), compiled -- no interpreter, no jitting.
/// Columns of one tree must have equal sizes (UsageError naming the tree and the column).
/// Callers wanting atomic output pass AtomicOutput::tempPath() and commit afterwards.
void writeTreeFile(const std::string &path, const TreeFileContents &contents);

/// writeTreeFile chunk by chunk, for outputs larger than memory: append() adds the entries of
/// one chunk (the first chunk of a tree fixes its columns; later chunks must have the same
/// names and types), close() writes the metadata and closes the file. `format` "rntuple" writes
/// each tree as an RNTuple of the same fields (autoFlush is then ignored).
class TreeFileWriter {
public:
   TreeFileWriter(const std::string &path, long long autoFlush = 0, const std::string &format = "ttree");
   ~TreeFileWriter();
   TreeFileWriter(const TreeFileWriter &) = delete;
   TreeFileWriter &operator=(const TreeFileWriter &) = delete;
   void append(const std::string &tree, const std::vector<ColumnView> &columns);
   void close(const std::vector<std::pair<std::string, std::string>> &named = {},
              const std::vector<std::pair<std::string, double>> &parameters = {});

private:
   struct Impl;
   std::unique_ptr<Impl> m_impl;
};

} // namespace tpcml

#endif // TPCML_ROOT_IO_H
