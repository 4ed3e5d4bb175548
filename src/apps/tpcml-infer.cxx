// tpcml-infer -- score the entries of ROOT trees with an ONNX model (C++ engine, RDataFrame).
//
//   tpcml-infer --model M.onnx --input F.root [F2.root ...] --tree T --output OUT.root
//               [--columns a,b,c] [--threads N] [--name score]
//
// Writes every input column plus the score column(s), entries in input order, under a
// temporary name renamed when complete (tpcml::onnx::scoreFiles, the function behind
// tpcml.inference.score_files). Input columns default to the model's "tpcml.inputs"
// metadata. Exit codes: 0 success, 1 unusable input (file, tree, column, model), 2 bad usage.
#include "ArgParser.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/onnx/Scorer.h"

#include <iostream>
#include <sstream>

namespace {

std::vector<std::string> splitColumns(const std::vector<std::string> &values)
{
   std::vector<std::string> out;
   for (const std::string &v : values) {
      std::stringstream ss(v);
      std::string item;
      while (std::getline(ss, item, ','))
         if (!item.empty())
            out.push_back(item);
   }
   return out;
}

/// The job the options describe (usage errors first, before any work).
tpcml::onnx::ScoreFilesJob jobFrom(const tpcml::apps::ArgParser &args)
{
   tpcml::onnx::ScoreFilesJob job;
   job.files = args.getAll("input");
   job.tree = args.get("tree");
   job.output = args.get("output");
   job.modelPath = args.get("model");
   job.columns = splitColumns(args.getAll("columns"));
   job.name = args.get("name");
   job.threads = static_cast<unsigned>(args.getInt("threads", 1, 1024));
   job.format = args.get("format");
   job.allowDetectorMismatch = args.flag("allow-detector-mismatch");
   job.commandLine = args.argv();
   if (args.has("columns") && job.columns.empty()) // "--columns=,," must not fall back to the model's metadata
      throw tpcml::UsageError("option '--columns' names no column, got '" + tpcml::join(args.getAll("columns")) +
                              "'; give A,B,... or leave it out to use the model's tpcml.inputs");
   if (job.name.empty())
      throw tpcml::UsageError("--name must not be empty");
   tpcml::onnx::checkScoreFilesJob(job);
   return job;
}

/// Loads (and plans) the model once, reports on it, scores the files with it.
int run(const tpcml::onnx::ScoreFilesJob &job)
{
   const auto model = tpcml::onnx::Model::load(job.modelPath); // fail fast on a bad model
   std::cerr << "tpcml-infer: model " << job.modelPath << " (" << model->nodeCount() << " nodes -> "
             << model->stepCount() << " steps, opset " << model->opset() << ", kernels " << tpcml::onnx::Model::isa()
             << ")\n";
   std::cerr << "tpcml-infer: scoring tree '" << job.tree << "' of " << job.files.size() << " file(s) with "
             << job.threads << " thread(s)\n";
   const auto s = tpcml::onnx::scoreFiles(job, model);
   std::cerr << "tpcml-infer: wrote " << s.entries << " entries with column '" << s.outputColumn << "' (inputs: ";
   for (std::size_t k = 0; k < s.columns.size(); ++k)
      std::cerr << (k ? ", " : "") << s.columns[k];
   std::cerr << ") to " << job.output << " in " << s.seconds << " s\n";
   return 0;
}

} // namespace

int main(int argc, char **argv)
{
   tpcml::apps::ArgParser parser("tpcml-infer",
                                 "Adds the score of an ONNX model (tpcml's C++ engine) to every entry of ROOT trees.");
   parser.addOption("model", "M.onnx", "ONNX model (float32 graph, e.g. exported by tf2onnx)", "", true);
   parser.addOption("input", "FILE", "input ROOT file(s); repeat or list several", "", true, true);
   parser.addOption("tree", "NAME", "tree to score", "events");
   parser.addOption("output", "OUT.root", "output ROOT file (written atomically)", "", true);
   parser.addOption("columns", "A,B,...",
                    "input columns in model order (scalars, or one RVec<float>); default: the model's tpcml.inputs "
                    "metadata");
   parser.addOption("threads", "N", "threads for scoring (ImplicitMT); output order is kept", "1");
   parser.addOption("name", "NAME", "name of the score column", "score");
   parser.addOption("format", "ttree|rntuple",
                    "output tree format: ttree (a TTree, the default) or rntuple (an RNTuple)", "ttree");
   parser.addFlag("allow-detector-mismatch",
                  "score files tagged (tpcml_detector) with another detector than the model's tpcml.detector");
   parser.setEpilog("exit status: 0 ok, 1 unreadable input or model, 2 bad arguments\nExample: tpcml-infer --model "
                    "mlp.onnx --input run11.root --tree events --output scored.root "
                    "--threads 2");
   return tpcml::apps::runMain(parser, argc, argv,
                               [](const tpcml::apps::ArgParser &args) { return run(jobFrom(args)); });
}
