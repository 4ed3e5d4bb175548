#include "tpcml/core/RootIO.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"

#include <ROOT/RDataFrame.hxx>
#include <ROOT/RField.hxx>
#include <ROOT/RNTupleModel.hxx>
#include <ROOT/RNTupleReader.hxx>
#include <ROOT/RNTupleWriter.hxx>
#include <TClass.h>
#include <TError.h>
#include <TFile.h>
#include <TKey.h>
#include <TLeaf.h>
#include <TLeafElement.h>
#include <TNamed.h>
#include <TParameter.h>
#include <TTree.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <array>
#include <cstring>
#include <filesystem>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace tpcml {

namespace {

bool isRemote(const std::string &path)
{
   return path.find("://") != std::string::npos;
}

/// Open `file` for reading; InputError (naming the file and the reason) instead of ROOT's stderr noise.
std::unique_ptr<TFile> openForReading(const std::string &file)
{
   std::error_code ec;
   if (!isRemote(file)) {
      if (!std::filesystem::exists(file, ec))
         throw InputError("cannot open '" + file + "': no such file");
      if (std::filesystem::is_directory(file, ec))
         throw InputError("cannot open '" + file + "': it is a directory, expected a ROOT file");
      if (!std::filesystem::is_regular_file(file, ec)) // a FIFO or a device would block or never end
         throw InputError("cannot open '" + file +
                          "': not a regular file (a FIFO, socket or device), expected a "
                          "ROOT file");
   }
   const Int_t oldLevel = gErrorIgnoreLevel;
   gErrorIgnoreLevel = kFatal; // we report the failure ourselves
   std::unique_ptr<TFile> f(TFile::Open(file.c_str(), "READ"));
   gErrorIgnoreLevel = oldLevel;
   if (!f || f->IsZombie())
      throw InputError("cannot open '" + file + "': not a readable ROOT file");
   return f;
}

/// Names of the trees / RNTuples among the top-level keys of an open file (one per name).
std::vector<std::string> treeNames(TFile &f)
{
   std::vector<std::string> out;
   for (TObject *obj : *f.GetListOfKeys()) {
      auto *key = static_cast<TKey *>(obj);
      const std::string cls = key->GetClassName();
      if (cls == "TTree" || cls == "TNtuple" || cls == "TChain" || cls == "ROOT::RNTuple" ||
          cls == "ROOT::Experimental::RNTuple") {
         const std::string name = key->GetName();
         if (std::find(out.begin(), out.end(), name) == out.end()) // several cycles of one tree
            out.push_back(name);
      }
   }
   return out;
}

} // namespace

std::vector<std::string> listTrees(const std::string &file)
{
   return treeNames(*openForReading(file));
}

TreeSummary describeTree(const std::string &file, const std::string &tree)
{
   auto f = openForReading(file); // opened once for the listing, the entries and the columns
   const auto trees = treeNames(*f);
   if (std::find(trees.begin(), trees.end(), tree) == trees.end())
      throw InputError("no tree '" + tree + "' in '" + file + "'" + didYouMean(tree, trees) +
                       "; trees in the file: " + (trees.empty() ? std::string("none") : join(trees)));
   TreeSummary s;
   s.file = file;
   s.tree = tree;
   auto describe = [&s](ROOT::RDataFrame &df) {
      for (const auto &c : df.GetColumnNames())
         s.columns.push_back({c, df.GetColumnType(c)});
   };
   if (auto *t = f->Get<TTree>(tree.c_str())) {
      s.format = "TTree";
      s.entries = t->GetEntries();
      ROOT::RDataFrame df(*t);
      describe(df);
      for (ColumnInfo &c : s.columns) { // a leaf `x[k]/T` (not a std::vector, not a variable length `x[n]`)
         TLeaf *leaf = t->GetLeaf(c.name.c_str());
         if (leaf && !leaf->InheritsFrom(TLeafElement::Class()) && !leaf->GetLeafCount() &&
             std::string(leaf->GetTitle()).find('[') != std::string::npos)
            c.length = static_cast<std::size_t>(leaf->GetLenStatic());
      }
   } else { // RNTuple
      s.format = "RNTuple";
      ROOT::RDataFrame df(tree, file);
      describe(df);
      s.entries = static_cast<long long>(*df.Count());
      auto reader = ROOT::RNTupleReader::Open(tree, file);
      const auto &desc = reader->GetDescriptor();
      for (ColumnInfo &c : s.columns) { // a field std::array<T, k>
         const auto id = desc.FindFieldId(c.name);
         if (id != ROOT::kInvalidDescriptorId && desc.GetFieldDescriptor(id).GetTypeName().rfind("std::array<", 0) == 0)
            c.length = desc.GetFieldDescriptor(id).GetNRepetitions();
      }
   }
   return s;
}

void requireColumns(const std::string &file, const std::string &tree, const std::vector<std::string> &columns)
{
   requireColumns(describeTree(file, tree), columns);
}

void requireColumns(const TreeSummary &s, const std::vector<std::string> &columns)
{
   const std::string &file = s.file, &tree = s.tree;
   std::vector<std::string> names;
   for (const auto &c : s.columns)
      names.push_back(c.name);
   std::vector<std::string> missing;
   for (const auto &c : columns) {
      bool ok = false;
      for (const auto &n : names)
         ok = ok || n == c;
      if (!ok)
         missing.push_back("'" + c + "'" + didYouMean(c, names));
   }
   if (!missing.empty())
      throw InputError("tree '" + tree + "' in '" + file + "' lacks column" + (missing.size() > 1 ? "s " : " ") +
                       join(missing));
}

std::string requireOneFormat(const std::vector<TreeSummary> &summaries)
{
   std::string first, firstFile;
   for (const TreeSummary &s : summaries) {
      const std::string &format = s.format, &f = s.file, &tree = s.tree;
      if (first.empty()) {
         first = format;
         firstFile = f;
      } else if (format != first) {
         throw InputError("'" + tree + "' is a " + first + " in '" + firstFile + "' but a " + format + " in '" + f +
                          "': ROOT reads the files of one dataset in one format; convert them or run them separately");
      }
   }
   return first;
}

namespace {

std::string trim(std::string t)
{
   while (!t.empty() && t.back() == ' ')
      t.pop_back();
   while (!t.empty() && t.front() == ' ')
      t.erase(0, 1);
   if (t.rfind("const ", 0) == 0)
      t.erase(0, 6);
   return t;
}

struct ParsedType {
   std::string element; ///< canonical scalar name, "" when unknown
   bool array = false;
   bool stdVector = false;
};

std::string canonicalScalar(const std::string &type)
{
   static const std::pair<const char *, const char *> names[] = {
       {"float", "float"},
       {"Float_t", "float"},
       {"double", "double"},
       {"Double_t", "double"},
       {"int", "int"},
       {"Int_t", "int"},
       {"std::int32_t", "int"},
       {"int32_t", "int"},
       {"unsigned int", "unsigned int"},
       {"UInt_t", "unsigned int"},
       {"std::uint32_t", "unsigned int"},
       {"uint32_t", "unsigned int"},
       {"long long", "long long"},
       {"Long64_t", "long long"},
       {"std::int64_t", "long long"},
       {"int64_t", "long long"},
       {"long", "long long"},
       {"Long_t", "long long"},
       {"unsigned long long", "unsigned long long"},
       {"ULong64_t", "unsigned long long"},
       {"std::uint64_t", "unsigned long long"},
       {"uint64_t", "unsigned long long"},
       {"unsigned long", "unsigned long long"},
       {"ULong_t", "unsigned long long"},
       {"short", "short"},
       {"Short_t", "short"},
       {"std::int16_t", "short"},
       {"unsigned short", "unsigned short"},
       {"UShort_t", "unsigned short"},
       {"std::uint16_t", "unsigned short"},
       {"char", "char"},
       {"Char_t", "char"},
       {"std::int8_t", "char"},
       {"unsigned char", "unsigned char"},
       {"UChar_t", "unsigned char"},
       {"std::uint8_t", "unsigned char"},
       {"bool", "bool"},
       {"Bool_t", "bool"},
   };
   const std::string t = trim(type);
   for (const auto &[from, to] : names)
      if (t == from)
         return to;
   return "";
}

ParsedType parseType(const std::string &raw)
{
   std::string t = trim(raw);
   if (t == "ROOT::RVecF" || t == "ROOT::VecOps::RVecF")
      t = "ROOT::RVec<float>";
   else if (t == "ROOT::RVecD" || t == "ROOT::VecOps::RVecD")
      t = "ROOT::RVec<double>";
   else if (t == "ROOT::RVecI" || t == "ROOT::VecOps::RVecI")
      t = "ROOT::RVec<int>";
   ParsedType p;
   for (const char *prefix : {"ROOT::VecOps::RVec<", "ROOT::RVec<", "RVec<", "std::vector<", "vector<"}) {
      const std::string pre = prefix;
      if (t.rfind(pre, 0) == 0 && t.back() == '>') {
         p.array = true;
         p.stdVector = pre.find("vector") != std::string::npos;
         t = t.substr(pre.size(), t.size() - pre.size() - 1);
         break;
      }
   }
   p.element = canonicalScalar(t);
   return p;
}

template <class From, class To>
std::string convert(ROOT::RDF::RNode &df, const std::string &to, const std::string &from)
{
   df = df.Define(to, [](const From &v) { return static_cast<To>(v); }, {from});
   return to;
}

template <class From, class To>
std::string convertArray(ROOT::RDF::RNode &df, const std::string &to, const std::string &from)
{
   df = df.Define(to, [](const From &v) { return ROOT::RVec<To>(v.begin(), v.end()); }, {from});
   return to;
}

/// `from` itself when it is an RVec<T>; else (a std::vector<T>) `to`, an RVec<T> copy of it.
template <class T>
std::string asRVec(ROOT::RDF::RNode &df, bool stdVector, const std::string &to, const std::string &from)
{
   return stdVector ? convertArray<std::vector<T>, T>(df, to, from) : from;
}

} // namespace

std::string canonicalColumnType(const std::string &type)
{
   const ParsedType p = parseType(type);
   return p.element.empty() ? "" : p.element + (p.array ? "[]" : "");
}

std::string defineAs(ROOT::RDF::RNode &df, const std::string &from, ColumnKind kind, const std::string &where)
{
   const std::string type = df.GetColumnType(from);
   const ParsedType p = parseType(type);
   const std::string &e = p.element;
   const char *accepted = "";
   // the name of a converted copy of `from`, by kind (in ColumnKind's order)
   static const char *const kCopyPrefix[] = {"tpcml_real_", "tpcml_int_", "tpcml_int64_", "tpcml_reals_",
                                             "tpcml_ints_"};
   const std::string to = kCopyPrefix[static_cast<int>(kind)] + from;
   switch (kind) {
   case ColumnKind::kReal:
      accepted = "a float or double scalar (read as float32)";
      if (!p.array && e == "float")
         return from;
      if (!p.array && e == "double")
         return convert<double, float>(df, to, from);
      break;
   case ColumnKind::kInt32:
      accepted = "an integer scalar (Int_t, int, std::int32_t; others converted to int32)";
      if (!p.array && e == "int")
         return from;
      if (!p.array && !e.empty() && e != "float" && e != "double" && e != "bool") {
         // e.g. numpy's default int64 written by uproot: through a 64-bit copy, clamped to int32
         ROOT::RDF::RNode wide = df;
         const std::string w = defineAs(wide, from, ColumnKind::kInt64, where);
         df = wide.Define(
             to, [](Long64_t v) { return int(std::max<Long64_t>(std::min<Long64_t>(v, INT32_MAX), INT32_MIN)); }, {w});
         return to;
      }
      break;
   case ColumnKind::kInt64:
      accepted = "an integer scalar (read as a 64-bit integer)";
      if (!p.array) {
         const std::string t = trim(type);
         if (t == "Long64_t" || t == "long long")
            return from;
         if (t == "long" || t == "Long_t" || t == "std::int64_t" || t == "int64_t")
            return convert<long, Long64_t>(df, to, from);
         if (t == "unsigned long" || t == "ULong_t" || t == "std::uint64_t" || t == "uint64_t")
            return convert<unsigned long, Long64_t>(df, to, from);
         using Converter = std::string (*)(ROOT::RDF::RNode &, const std::string &, const std::string &);
         static const std::pair<const char *, Converter> kToInt64[] = {
             {"int", &convert<int, Long64_t>},
             {"unsigned int", &convert<unsigned int, Long64_t>},
             {"short", &convert<short, Long64_t>},
             {"unsigned short", &convert<unsigned short, Long64_t>},
             {"char", &convert<char, Long64_t>},
             {"unsigned char", &convert<unsigned char, Long64_t>},
             {"unsigned long long", &convert<ULong64_t, Long64_t>},
         };
         for (const auto &[name, conv] : kToInt64)
            if (e == name)
               return conv(df, to, from);
      }
      break;
   case ColumnKind::kRealArray:
      accepted = "an array of float or double (RVec or std::vector, read as RVec<float>)";
      if (p.array && e == "float")
         return asRVec<float>(df, p.stdVector, to, from);
      if (p.array && e == "double")
         return p.stdVector ? convertArray<std::vector<double>, float>(df, to, from)
                            : convertArray<ROOT::RVec<double>, float>(df, to, from);
      break;
   case ColumnKind::kInt32Array:
      accepted = "an array of integers (RVec or std::vector of Int_t, int, std::int32_t; RVec of other integers)";
      if (p.array && e == "int")
         return asRVec<int>(df, p.stdVector, to, from);
      if (p.array && !p.stdVector &&
          (e == "long long" || e == "short" || e == "char" || e == "unsigned char" || e == "unsigned short" ||
           e == "unsigned int")) {
         // numpy's default int64 (uproot writes it as is): values outside int32 are clamped, so a
         // consumer that checks its range (a plane must be 0 or 1) still refuses them
         const std::string t = trim(type);
         const bool isLong =
             t.find("long long") == std::string::npos && t.find("Long64_t") == std::string::npos && e == "long long";
         auto clamp = [](auto v) {
            using V = decltype(v);
            if constexpr (std::is_signed_v<V>)
               return int(std::max<long long>(std::min<long long>(v, INT32_MAX), INT32_MIN));
            else
               return int(std::min<unsigned long long>(v, INT32_MAX));
         };
         auto def = [&](auto tag) {
            using V = decltype(tag);
            df = df.Define(to,
                           [clamp](const ROOT::RVec<V> &v) {
                              ROOT::RVec<int> o(v.size());
                              for (std::size_t i = 0; i < v.size(); ++i)
                                 o[i] = clamp(v[i]);
                              return o;
                           },
                           {from});
            return to;
         };
         if (e == "long long")
            return isLong ? def(long{}) : def(static_cast<long long>(0));
         if (e == "short")
            return def(short{});
         if (e == "char")
            return def(char{});
         if (e == "unsigned char")
            return def(static_cast<unsigned char>(0));
         if (e == "unsigned short")
            return def(static_cast<unsigned short>(0));
         return def(0u);
      }
      break;
   }
   throw InputError("column '" + from + "' of " + where + " has type " + type + "; expected " + accepted);
}

void runInRanges(const std::vector<std::string> &files, const std::string &tree, unsigned long long total,
                 unsigned parts,
                 const std::function<void(unsigned, ROOT::RDF::RNode, unsigned long long, unsigned long long)> &book,
                 const std::function<void(unsigned, unsigned long long, unsigned long long)> &run)
{
   if (parts == 0)
      parts = 1;
   if (parts > 1 && total >= (1ULL << 32))
      parts = 1; // RDataFrame::Range takes 32-bit entry numbers
   if (parts > 1)
      ROOT::EnableThreadSafety();
   std::vector<std::unique_ptr<ROOT::RDataFrame>> frames(parts);
   std::vector<std::pair<unsigned long long, unsigned long long>> ranges(parts);
   for (unsigned t = 0; t < parts; ++t) {
      ranges[t] = {total * t / parts, total * (t + 1) / parts};
      if (ranges[t].first == ranges[t].second)
         continue;
      frames[t] = std::make_unique<ROOT::RDataFrame>(tree, files);
      ROOT::RDF::RNode node = *frames[t];
      if (parts > 1)
         node = frames[t]->Range(unsigned(ranges[t].first), unsigned(ranges[t].second));
      book(t, node, ranges[t].first, ranges[t].second);
   }
   std::vector<std::exception_ptr> errors(parts);
   auto work = [&](unsigned t) {
      try {
         run(t, ranges[t].first, ranges[t].second);
      } catch (...) {
         errors[t] = std::current_exception();
      }
   };
   if (parts == 1) {
      if (frames[0])
         work(0);
   } else {
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < parts; ++t)
         if (frames[t])
            pool.emplace_back(work, t);
      for (std::thread &th : pool)
         th.join();
   }
   for (const std::exception_ptr &e : errors)
      if (e)
         std::rethrow_exception(e);
}

namespace {
std::mutex g_handlerMutex;
int g_handlerUsers = 0;
ErrorHandlerFunc_t g_savedHandler = nullptr;
} // namespace

RootMessagesToStderr::RootMessagesToStderr()
{
   std::lock_guard<std::mutex> lock(g_handlerMutex);
   if (g_handlerUsers++ == 0)
      g_savedHandler = SetErrorHandler(DefaultErrorHandler);
}

RootMessagesToStderr::~RootMessagesToStderr()
{
   std::lock_guard<std::mutex> lock(g_handlerMutex);
   if (--g_handlerUsers == 0)
      SetErrorHandler(g_savedHandler);
}

void checkFormat(const std::string &format, const std::string &option)
{
   if (format != "ttree" && format != "rntuple")
      throw UsageError(option + " '" + format + "': expected 'ttree' (a TTree, the default) or 'rntuple' (an RNTuple)");
}

ROOT::RDF::RSnapshotOptions snapshotOptions(const std::string &format)
{
   checkFormat(format);
   ROOT::RDF::RSnapshotOptions opts;
   opts.fLazy = false;
   opts.fOutputFormat =
       format == "rntuple" ? ROOT::RDF::ESnapshotOutputFormat::kRNTuple : ROOT::RDF::ESnapshotOutputFormat::kTTree;
   return opts;
}

struct EventProgress::State {
   std::string what;
   unsigned long long total = 0;
   std::atomic<unsigned long long> done{0};  ///< by the partial-result callbacks of attached loops
   std::atomic<unsigned long long> added{0}; ///< by add()
   std::mutex print;
   int shown = -1; ///< last percentage printed
   bool tty = false;
   bool printed = false;
   std::vector<ROOT::RDF::RResultPtr<ULong64_t>> counts;

   void show(unsigned long long n, bool last)
   {
      const int percent = total ? int(std::min<unsigned long long>(100, n * 100 / total)) : 100;
      std::lock_guard<std::mutex> lock(print);
      const int step = tty ? 1 : 10;
      if (!last && percent / step <= shown / step && shown >= 0)
         return;
      if (last && printed && percent == shown && !tty)
         return;
      shown = percent;
      printed = true;
      std::fprintf(stderr, "%s%s: %llu / %llu entries (%d %%)%s", tty ? "\r" : "", what.c_str(), n, total, percent,
                   tty && !last ? "" : "\n");
      std::fflush(stderr);
   }
};

EventProgress::EventProgress(std::string what, unsigned long long total, bool enabled)
{
   if (!enabled)
      return;
   m_state = std::make_shared<State>();
   m_state->what = std::move(what);
   m_state->total = total;
   m_state->tty = ::isatty(2) == 1;
}

EventProgress::~EventProgress()
{
   if (m_state && m_state->printed)
      m_state->show(done(), true);
}

void EventProgress::attach(ROOT::RDF::RNode node)
{
   if (!m_state)
      return;
   const ULong64_t every = std::max<ULong64_t>(1, m_state->total / 200);
   auto count = node.Count();
   std::weak_ptr<State> state = m_state;
   count.OnPartialResultSlot(every, [state, every](unsigned, ULong64_t &) {
      if (auto s = state.lock())
         s->show((s->done += every) + s->added.load(), false);
   });
   m_state->counts.push_back(count);
}

void EventProgress::add(unsigned long long n)
{
   if (m_state)
      m_state->show(m_state->done.load() + (m_state->added += n), false);
}

unsigned long long EventProgress::done() const
{
   if (!m_state)
      return 0;
   // the counters of finished loops are exact; the partial-result callbacks run every `every` entries
   unsigned long long exact = 0;
   for (auto &count : m_state->counts)
      exact += count.IsReady() ? static_cast<unsigned long long>(*count) : 0;
   return std::max(exact, m_state->done.load()) + m_state->added.load();
}

double readParameter(const std::string &file, const std::string &key, double fallback)
{
   auto f = openForReading(file);
   auto *p = f->Get<TParameter<double>>(key.c_str());
   return p ? p->GetVal() : fallback;
}

std::size_t leafTypeSize(char type)
{
   switch (type) {
   case 'B':
   case 'b':
   case 'O':
      return 1;
   case 'S':
   case 's':
      return 2;
   case 'F':
   case 'I':
   case 'i':
      return 4;
   case 'D':
   case 'L':
   case 'l':
      return 8;
   default:
      throw UsageError(std::string("unknown ROOT leaf type '") + type + "': expected one of F D B b S s I i L l O");
   }
}

namespace {
/// The most values per entry of one fixed-length array column (a TTree leaf's limit is far above; this one
/// catches a transposed (k, n) array before gigabytes are written).
constexpr std::size_t kMaxColumnWidth = 1 << 20;

void checkColumns(const std::string &tree, const std::vector<ColumnView> &cols)
{
   if (cols.empty())
      throw UsageError("tree '" + tree + "' has no columns");
   for (const auto &c : cols) {
      leafTypeSize(c.type);
      if (c.width > kMaxColumnWidth)
         throw UsageError("tree '" + tree + "': column '" + c.name + "' has " + std::to_string(c.width) +
                          " values per entry; at most " + std::to_string(kMaxColumnWidth) + " are written");
      if (c.size != cols.front().size)
         throw UsageError("tree '" + tree + "': column '" + c.name + "' has " + std::to_string(c.size) +
                          " entries, column '" + cols.front().name + "' has " + std::to_string(cols.front().size));
      if (c.size > 0 && c.data == nullptr)
         throw UsageError("tree '" + tree + "': column '" + c.name + "' has no data");
   }
}
} // namespace

namespace {
/// The RNTuple field type of a ROOT leaf-type code.
const char *fieldType(char type)
{
   switch (type) {
   case 'F':
      return "float";
   case 'D':
      return "double";
   case 'B':
      return "std::int8_t";
   case 'b':
      return "std::uint8_t";
   case 'S':
      return "std::int16_t";
   case 's':
      return "std::uint16_t";
   case 'I':
      return "std::int32_t";
   case 'i':
      return "std::uint32_t";
   case 'L':
      return "std::int64_t";
   case 'l':
      return "std::uint64_t";
   default:
      return "bool";
   }
}

/// The RNTuple field type of a column: its scalar, or std::array<scalar, k> for a fixed-length array of k.
std::string fieldType(const ColumnView &c)
{
   const std::string scalar = fieldType(c.type);
   return c.width == 0 ? scalar : "std::array<" + scalar + "," + std::to_string(c.width) + ">";
}

/// The TTree leaf list of a column: `name/T`, or `name[k]/T` for a fixed-length array of k.
std::string leafList(const ColumnView &c)
{
   return c.name + (c.width == 0 ? "" : "[" + std::to_string(c.width) + "]") + "/" + c.type;
}
} // namespace

struct TreeFileWriter::Impl {
   struct Tree {
      TTree *tree = nullptr;                       // owned by the file (format "ttree")
      std::unique_ptr<ROOT::RNTupleWriter> ntuple; // format "rntuple"
      std::unique_ptr<ROOT::REntry> entry;
      std::vector<std::string> names;
      std::vector<char> types;
      std::vector<std::size_t> widths;
      std::vector<std::vector<unsigned char>> slot; ///< one entry's value(s) of each column (format "ttree")
      std::vector<void *> target; ///< where each column's value goes: the TTree's slot or the entry's value
   };
   std::unique_ptr<TFile> file;
   std::string path;
   long long autoFlush = 0;
   bool rntuple = false;
   std::vector<std::pair<std::string, std::unique_ptr<Tree>>> trees;
};

TreeFileWriter::TreeFileWriter(const std::string &path, long long autoFlush, const std::string &format)
    : m_impl(std::make_unique<Impl>())
{
   checkFormat(format, "format");
   m_impl->path = path;
   m_impl->autoFlush = autoFlush;
   m_impl->rntuple = format == "rntuple";
   m_impl->file.reset(TFile::Open(path.c_str(), "RECREATE"));
   if (!m_impl->file || m_impl->file->IsZombie())
      throw InputError("cannot create ROOT file '" + path + "'");
}

TreeFileWriter::~TreeFileWriter() = default;

void TreeFileWriter::append(const std::string &name, const std::vector<ColumnView> &cols)
{
   checkColumns(name, cols);
   if (!m_impl->file)
      throw UsageError("TreeFileWriter: '" + m_impl->path + "' is already closed");
   Impl::Tree *t = nullptr;
   for (auto &[n, tr] : m_impl->trees)
      if (n == name)
         t = tr.get();
   if (!t) {
      m_impl->file->cd();
      auto made = std::make_unique<Impl::Tree>();
      for (const ColumnView &c : cols) {
         made->names.push_back(c.name);
         made->types.push_back(c.type);
         made->widths.push_back(c.width);
         made->slot.emplace_back(leafTypeSize(c.type) * std::max<std::size_t>(c.width, 1));
      }
      if (m_impl->rntuple) {
         auto model = ROOT::RNTupleModel::Create();
         for (const ColumnView &c : cols)
            model->AddField(ROOT::RFieldBase::Create(c.name, fieldType(c)).Unwrap());
         made->ntuple = ROOT::RNTupleWriter::Append(std::move(model), name, *m_impl->file);
         made->entry = made->ntuple->CreateEntry();
         for (const ColumnView &c : cols)
            made->target.push_back(made->entry->GetPtr<void>(c.name).get());
      } else {
         made->tree = new TTree(name.c_str(), name.c_str());
         if (m_impl->autoFlush > 0)
            made->tree->SetAutoFlush(m_impl->autoFlush);
         for (std::size_t k = 0; k < cols.size(); ++k) {
            made->tree->Branch(cols[k].name.c_str(), made->slot[k].data(), leafList(cols[k]).c_str());
            made->target.push_back(made->slot[k].data());
         }
      }
      t = made.get();
      m_impl->trees.emplace_back(name, std::move(made));
   }
   if (cols.size() != t->names.size())
      throw UsageError("tree '" + name + "': a chunk of " + std::to_string(cols.size()) + " columns, the tree has " +
                       std::to_string(t->names.size()));
   std::vector<std::size_t> bytes(cols.size()); // per entry
   for (std::size_t k = 0; k < cols.size(); ++k) {
      if (cols[k].name != t->names[k] || cols[k].type != t->types[k] || cols[k].width != t->widths[k])
         throw UsageError("tree '" + name + "': chunk column " + std::to_string(k) + " is '" + cols[k].name + "' (" +
                          std::to_string(cols[k].width) + " values per entry), the tree's is '" + t->names[k] + "' (" +
                          std::to_string(t->widths[k]) + ")");
      bytes[k] = leafTypeSize(cols[k].type) * std::max<std::size_t>(cols[k].width, 1);
   }
   const std::size_t n = cols.front().size;
   for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t k = 0; k < cols.size(); ++k)
         std::memcpy(t->target[k], static_cast<const unsigned char *>(cols[k].data) + i * bytes[k], bytes[k]);
      if (t->ntuple)
         t->ntuple->Fill(*t->entry);
      else
         t->tree->Fill();
   }
}

void TreeFileWriter::close(const std::vector<std::pair<std::string, std::string>> &named,
                           const std::vector<std::pair<std::string, double>> &parameters)
{
   if (!m_impl->file)
      return;
   m_impl->file->cd();
   for (auto &[n, t] : m_impl->trees) {
      if (t->ntuple) {
         t->entry.reset();
         t->ntuple.reset(); // commits the RNTuple into the file
      } else {
         t->tree->Write();
      }
   }
   for (const auto &[name, title] : named)
      TNamed(name.c_str(), title.c_str()).Write();
   for (const auto &[name, value] : parameters)
      TParameter<double>(name.c_str(), value).Write();
   m_impl->file->Close();
   m_impl->file.reset();
}

void writeTreeFile(const std::string &path, const TreeFileContents &contents)
{
   // validate everything before creating the file
   for (const auto &[tree, cols] : contents.trees)
      checkColumns(tree, cols);
   TreeFileWriter writer(path, contents.autoFlush, contents.format);
   for (const auto &[name, cols] : contents.trees)
      writer.append(name, cols);
   writer.close(contents.named, contents.parameters);
}

} // namespace tpcml
