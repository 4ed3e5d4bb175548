// tpcml-infer -- score the entries of ROOT trees with an ONNX model (C++ engine, RDataFrame).
//
//   tpcml-infer F.root [F2.root ...] --model M.onnx --output OUT.root [--tree T]
//               [--columns a,b,c] [--threads N] [--name score] [-q]
//
// Writes every input column plus the score column(s), entries in input order, under a
// temporary name renamed when complete (tpcml::onnx::scoreFiles, the function behind
// tpcml.inference.score_files). Input columns default to the model's "tpcml.inputs"
// metadata. Exit codes: 0 success, 1 unusable input (file, tree, column, model), 2 bad usage.
#include "Cli.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/Strings.h"
#include "tpcml/onnx/Scorer.h"

#include <iostream>

namespace {

/// The options as given (text; converted in jobFrom so errors name the option and value).
struct Options {
   std::vector<std::string> inputs, columns;
   std::string model, tree, output, name = "score", threads;
   tpcml::apps::OutputContract contract;
};

/// The job the options describe (usage errors first, before any work).
tpcml::onnx::ScoreFilesJob jobFrom(const tpcml::apps::Cli &cli, const Options &o)
{
   tpcml::onnx::ScoreFilesJob job;
   job.files = o.inputs;
   job.tree = o.tree;
   job.output = o.output;
   job.modelPath = o.model;
   job.columns = tpcml::apps::splitCommas(o.columns);
   job.name = o.name;
   job.threads = tpcml::apps::toThreads(o.threads);
   cli.applyOutputContract(job, o.contract);
   if (cli.given("columns") && job.columns.empty()) // "--columns=,," must not fall back to the model's metadata
      throw tpcml::UsageError("option '--columns' names no column, got '" + tpcml::join(o.columns) +
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

int body(const tpcml::apps::Cli &cli, const Options &o)
{
   return run(jobFrom(cli, o));
}

const tpcml::apps::About kAbout{"tpcml-infer",
                                "Adds the score of an ONNX model (tpcml's C++ engine) to every entry of ROOT trees.",
                                "unreadable input or model",
                                "Example: tpcml-infer run11.root --model mlp.onnx --tree events --output scored.root "
                                "--threads 2\n"
                                "The same job: tpcml infer (Python), tpcml.inference.score_files."};

void describe(tpcml::apps::Cli &cli, Options &o)
{
   cli.addInputs(o.inputs, "input ROOT file(s)", /*multiple=*/true);
   cli.addText("--model", o.model, "M.onnx", "ONNX model (float32 graph, e.g. exported by tf2onnx)", true);
   cli.addOutput(o.output);
   cli.addTree(o.tree, "tree to score");
   cli.app()
       .add_option("--columns", o.columns,
                   "input columns in model order (scalars, or one RVec<float>); default: the model's tpcml.inputs "
                   "metadata")
       ->type_name("A,B,...")
       ->allow_extra_args(false);
   cli.addText("--name", o.name, "NAME", "name of the score column");
   cli.addThreads(o.threads);
   cli.addOutputContract(o.contract);
}

} // namespace

int main(int argc, char **argv)
{
   return tpcml::apps::runApp<Options>(argc, argv, kAbout, describe, body);
}
