// score_events.C -- score a tree with an ONNX model inside RDataFrame (tpcml's C++ engine).
//
// The ROOT-macro door of tpcml::onnx (the same Scorer behind tpcml-infer and tpcml.inference):
// one immutable model, one session per slot, scores identical whatever the thread count.
//
//   root -l -b -q 'macros/score_events.C("events.root", "mlp.onnx", "scored.root")'
//   root -l -b -q 'macros/score_events.C("events.root", "mlp.onnx", "scored.root", "events", 2, "score")'
//
// Arguments: input file, model, output file, tree, ImplicitMT threads (0: off), score column
// name, input columns (comma-separated; empty: the model's tpcml.inputs metadata). Prints the
// number of entries, the mean score and, when the model stores one, the fraction above its
// working point. Returns 0 on success, 1 on bad input.
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
   try {
      std::vector<std::string> cols;
      std::stringstream ss(columns);
      for (std::string c; std::getline(ss, c, ',');)
         if (!c.empty())
            cols.push_back(c);
      if (threads > 0)
         ROOT::EnableImplicitMT(threads);
      const tpcml::onnx::Scorer scorer(model);
      ROOT::RDataFrame df(tree, input);
      auto scored = tpcml::onnx::defineScore(df, name, scorer, cols);
      auto mean = scored.Mean<float>(name);
      const std::string wp = scorer.model().metadataValue("tpcml.working_point");
      ROOT::RDF::RResultPtr<ULong64_t> above;
      if (!wp.empty())
         above = scored.Filter([cut = std::stof(wp)](float s) { return s > cut; }, {name}).Count();
      auto entries = scored.Count();
      tpcml::AtomicOutput out(output);
      scored.Snapshot(tree, out.tempPath());
      out.commit();
      std::cout << "score_events: " << *entries << " entries, mean " << name << " " << *mean;
      if (!wp.empty())
         std::cout << ", fraction above working point " << wp << ": "
                   << (*entries ? double(*above) / double(*entries) : 0.);
      std::cout << " -> " << output << "\n";
      return 0;
   } catch (const tpcml::Error &e) {
      std::cerr << "score_events: error: " << e.what() << "\n";
      return 1;
   }
}
