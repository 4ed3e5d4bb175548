#include "tpcml/RootIO.h"

#include "tpcml/Error.h"
#include "tpcml/Strings.h"

#include <ROOT/RDataFrame.hxx>
#include <TClass.h>
#include <TError.h>
#include <TFile.h>
#include <TKey.h>
#include <TTree.h>

#include <algorithm>
#include <filesystem>
#include <memory>

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
      s.entries = t->GetEntries();
      ROOT::RDataFrame df(*t);
      describe(df);
   } else { // RNTuple
      ROOT::RDataFrame df(tree, file);
      describe(df);
      s.entries = static_cast<long long>(*df.Count());
   }
   return s;
}

void requireColumns(const std::string &file, const std::string &tree, const std::vector<std::string> &columns)
{
   const TreeSummary s = describeTree(file, tree);
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

} // namespace tpcml
