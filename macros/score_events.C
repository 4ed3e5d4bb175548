// score_events.C -- score a tree with an ONNX model inside RDataFrame (tpcml's C++ engine).
//
// The ROOT-macro door of tpcml::onnx (the same Scorer behind tpcml-infer and tpcml.inference):
// one immutable model, one session per slot, scores identical whatever the thread count, and
// the output's entries in input order whatever the thread count (tpcml::onnx::scoreFiles, the
// function tpcml-infer runs; ImplicitMT's Snapshot would reorder them).
//
//   root -l -b -q 'macros/score_events.C("events.root", "mlp.onnx", "scored.root")'
//   root -l -b -q 'macros/score_events.C("events.root", "mlp.onnx", "scored.root", "events", 2, "score")'
//
// Arguments: input file (TTree or RNTuple), model, output file (never one of the inputs),
// tree, threads (0 or 1: one), score column name, input columns (comma-separated; empty: the
// model's tpcml.inputs metadata). Prints the number of entries, the mean score and, when the
// model stores one, the fraction above its working point. Returns (and `root -q` exits with)
// 0 on success, 1 on bad input (file, tree, column, model), 2 on a bad argument.
#include "tpcml/tpcml.h"

#include <ROOT/RDataFrame.hxx>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int score_events(const char *input = "events.root", const char *model = "model.onnx",
                 const char *output = "scored.root", const char *tree = "events", int threads = 0,
                 const char *name = "score", const char *columns = "")
{
   return tpcml::runGuarded("score_events", [&] {
      if (threads < 0 || threads > 1024)
         throw tpcml::UsageError("threads must be in [0, 1024], got " + std::to_string(threads));
      std::vector<std::string> cols;
      std::stringstream ss(columns);
      for (std::string c; std::getline(ss, c, ',');)
         if (!c.empty())
            cols.push_back(c);
      const auto s = tpcml::onnx::scoreFiles({input}, tree, output, model, cols, name,
                                             static_cast<unsigned>(threads > 1 ? threads : 1));
      const tpcml::onnx::Scorer scorer(model);
      const std::string wp = scorer.model().metadataValue("tpcml.working_point");
      ROOT::RDataFrame df(tree, output);
      auto mean = df.Mean<float>(name);
      ROOT::RDF::RResultPtr<ULong64_t> above;
      if (!wp.empty())
         above = df.Filter([cut = std::stof(wp)](float v) { return v > cut; }, {name}).Count();
      std::cout << "score_events: " << s.entries << " entries, mean " << name << " " << *mean;
      if (!wp.empty())
         std::cout << ", fraction above working point " << wp << ": "
                   << (s.entries ? double(*above) / double(s.entries) : 0.);
      std::cout << " -> " << output << "\n";
      return 0;
   });
}
