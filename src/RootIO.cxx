#include "tpcml/RootIO.h"

#include "tpcml/Error.h"
#include "tpcml/Strings.h"

#include <ROOT/RDataFrame.hxx>
#include <TClass.h>
#include <TError.h>
#include <TFile.h>
#include <TKey.h>
#include <TNamed.h>
#include <TParameter.h>
#include <TTree.h>

#include <algorithm>
#include <array>
#include <cstring>
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

void writeTreeFile(const std::string &path, const TreeFileContents &contents)
{
   // validate everything before creating the file
   for (const auto &[tree, cols] : contents.trees) {
      if (cols.empty())
         throw UsageError("tree '" + tree + "' has no columns");
      for (const auto &c : cols) {
         leafTypeSize(c.type);
         if (c.size != cols.front().size)
            throw UsageError("tree '" + tree + "': column '" + c.name + "' has " + std::to_string(c.size) +
                             " entries, column '" + cols.front().name + "' has " + std::to_string(cols.front().size));
         if (c.size > 0 && c.data == nullptr)
            throw UsageError("tree '" + tree + "': column '" + c.name + "' has no data");
      }
   }
   std::unique_ptr<TFile> file(TFile::Open(path.c_str(), "RECREATE"));
   if (!file || file->IsZombie())
      throw InputError("cannot create ROOT file '" + path + "'");
   for (const auto &[name, cols] : contents.trees) {
      auto *tree = new TTree(name.c_str(), name.c_str()); // owned by the file
      if (contents.autoFlush > 0)
         tree->SetAutoFlush(contents.autoFlush);
      std::vector<std::array<unsigned char, 8>> slot(cols.size());
      std::vector<std::size_t> width(cols.size());
      for (std::size_t k = 0; k < cols.size(); ++k) {
         width[k] = leafTypeSize(cols[k].type);
         tree->Branch(cols[k].name.c_str(), slot[k].data(), (cols[k].name + "/" + cols[k].type).c_str());
      }
      const std::size_t n = cols.front().size;
      for (std::size_t i = 0; i < n; ++i) {
         for (std::size_t k = 0; k < cols.size(); ++k)
            std::memcpy(slot[k].data(), static_cast<const unsigned char *>(cols[k].data) + i * width[k], width[k]);
         tree->Fill();
      }
      tree->Write();
   }
   for (const auto &[name, title] : contents.named)
      TNamed(name.c_str(), title.c_str()).Write();
   for (const auto &[name, value] : contents.parameters)
      TParameter<double>(name.c_str(), value).Write();
   file->Close();
}

} // namespace tpcml
