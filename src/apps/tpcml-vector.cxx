// tpcml-vector -- DARWIN-VAE event vectors and the anomaly score TS of LXe TPC events (DARWIN-VAE Sec. 3.2-3.3).
//
//   tpcml-vector events.root [more.root ...] --output vectors.root [--tree events] [--detector NAME|FILE]
//                [--norm log1p|none] [--name darwin_x]
//                [--encoder E.onnx --decoder D.onnx --classifier C.onnx [--r R] [--score-name TS] [--drop-vector]]
//                [--threads N] [--drop-arrays] [-q]
//
// The arguments become a tpcml::VectorJob and tpcml::vectorFiles does the job (the runner of tpcml-hitpeak and
// tpcml-raster): it adds to every entry the event vector (RVec<float>) of tpcml::EventVectorBuilder and, given the
// three exported graphs, TS (double) of tpcml::AnomalyScore -- the kernels behind the RDataFrame functors
// (tpcml::defineEventVector, tpcml::defineAnomalyScore) and the Python batch doors (_core.EventVector,
// _core.AnomalyScore). Written under a temporary name and renamed when complete. Exit codes: 0 ok, 1 unusable
// input, 2 bad usage.
#include "Cli.h"

#include "tpcml/core/Error.h"
#include "tpcml/imaging/RasterFiles.h"

#include <string>
#include <tuple>

namespace {

/// The options as given (text; converted in jobFromArguments so errors name the option and value).
struct Options {
   tpcml::apps::FileJobOptions files;
   std::string detector, norm = "log1p", name = "darwin_x";
   std::string encoder, decoder, classifier, r = "0", scoreName = "TS";
   bool dropArrays = false, dropVector = false;
};

tpcml::VectorJob jobFromArguments(const tpcml::apps::Cli &cli, const Options &o)
{
   tpcml::VectorJob job;
   cli.applyFileJob(job, o.files);
   job.detector = o.detector;
   job.options.norm = tpcml::parseEventVectorNorm(o.norm);
   job.name = o.name;
   job.encoder = o.encoder;
   job.decoder = o.decoder;
   job.classifier = o.classifier;
   if (cli.given("r") && o.encoder.empty())
      throw tpcml::UsageError("--r weighs the classifier in the anomaly score; give --encoder, --decoder and "
                              "--classifier with it");
   job.R = tpcml::apps::toNumber("r", o.r, 0., 1e12);
   job.scoreName = o.scoreName;
   if (job.name.empty() || job.scoreName.empty() || job.name == job.scoreName)
      throw tpcml::UsageError("--name and --score-name must be two different non-empty column names, got '" + job.name +
                              "' and '" + job.scoreName + "'");
   job.dropArrays = o.dropArrays;
   job.dropVector = o.dropVector;
   return job;
}

int body(const tpcml::apps::Cli &cli, const Options &o)
{
   const auto run = [&] {
      const tpcml::VectorJob job = jobFromArguments(cli, o);
      const auto entries = tpcml::vectorFiles(job).images;
      return "wrote " + std::to_string(entries) + " entries to " + job.output;
   };
   return cli.timed(run);
}

const tpcml::apps::About kAbout{
    "tpcml-vector",
    "Adds the DARWIN-VAE event vector (tpcml::EventVectorBuilder) and, given the exported VAE and classifier, the "
    "anomaly score TS = -ELBO + R H_B (tpcml::AnomalyScore; DARWIN-VAE Sec. 3.2) to every entry of LXe event "
    "trees.",
    "unreadable input, bad array data or unusable graphs",
    "Example: tpcml-vector events.root --output ts.root --encoder models/encoder.onnx --decoder "
    "models/decoder.onnx --classifier models/classifier.onnx --r 300 --drop-vector\n"
    "Inputs need s1_waveform, s2_waveform, s2_pmt_area (the events tree of tpcml simulate darwin); the graphs\n"
    "are those tpcml run darwin exports (<out>/models)."};

void describe(tpcml::apps::Cli &cli, Options &o)
{
   cli.addFileJob(o.files, "input ROOT file(s) with the S1 and S2 total waveforms and the S2 PMT areas",
                  "tree with the events");
   cli.addDetector(o.detector, "detector whose PMT counts set the vector layout (default: the inputs' tpcml_detector)");
   const std::tuple<const char *, std::string *, const char *, const char *> texts[] = {
       {"--norm", &o.norm, "log1p|none", "vector normalisation: sign(x) log(1 + |x|) of PE, or PE"},
       {"--name", &o.name, "NAME", "the vector column"},
       {"--encoder", &o.encoder, "FILE", "the VAE encoder graph (x -> z_mean, z_log_var)"},
       {"--decoder", &o.decoder, "FILE", "the VAE decoder graph (z -> x_D, metadata tpcml.log_sigma_d)"},
       {"--classifier", &o.classifier, "FILE", "the ER-vs-NR classifier graph (x -> p)"},
       {"--r", &o.r, "R", "weight of H_B = -log(1 - p) in TS"},
       {"--score-name", &o.scoreName, "NAME", "the TS column"}};
   for (const auto &[name, into, type, help] : texts)
      cli.addText(name, *into, type, help);
   cli.addThreads(o.files.threads);
   cli.app().add_flag("--drop-vector", o.dropVector, "do not write the vector column (with the graphs: TS only)");
   cli.app().add_flag("--drop-arrays", o.dropArrays, "do not copy the per-PMT and waveform array columns");
   cli.addOutputContract(o.files.contract);
}

} // namespace

int main(int argc, char **argv)
{
   return tpcml::apps::runApp<Options>(argc, argv, kAbout, describe, body);
}
