// tpcml-hitpeak -- Hit / Peak / HitPeak images of LXe TPC events (XENON1T CNN study, X1T-CNN Sec. III).
//
//   tpcml-hitpeak events.root [more.root ...] --output images.root [--tree events]
//                 [--kind hitpeak|hit|peak|raw] [--width W --height H] [--layout nhwc|nchw]
//                 [--detector NAME|FILE] [--threads N] [--drop-arrays] [-q]
//
// The arguments become a tpcml::HitPeakJob and tpcml::hitPeakFiles does the job: it adds to every
// entry the image (RVec<float>) drawn by tpcml::HitPeakImager -- the kernel behind the RDataFrame
// functor and the Python batch door -- from the per-PMT areas and peak waveforms of `tpcml simulate
// xenon1t|xenonnt|darwin` (or a user's tree with the same columns). Written under a temporary name and
// renamed when complete. Exit codes: 0 ok, 1 unusable input, 2 bad usage.
#include "Cli.h"

#include "tpcml/core/Error.h"
#include "tpcml/imaging/RasterFiles.h"

#include <string>

namespace {

/// The options as given (text; converted in jobFromArguments so errors name the option and value).
struct Options {
   tpcml::apps::FileJobOptions files;
   std::string detector, kind = "hitpeak", width = "0", height = "0", layout = "nhwc";
   bool dropArrays = false;
};

tpcml::HitPeakJob jobFromArguments(const tpcml::apps::Cli &cli, const Options &o)
{
   tpcml::HitPeakJob job;
   cli.applyFileJob(job, o.files);
   job.detector = o.detector;
   job.options.kind = tpcml::parseHitPeakKind(o.kind);
   job.options.width = cli.given("width") ? tpcml::apps::toInt("width", o.width, 8, 1024) : 0;
   job.options.height = cli.given("height") ? tpcml::apps::toInt("height", o.height, 8, 1024) : 0;
   job.options.channelsFirst = tpcml::apps::channelsFirst(o.layout);
   job.dropArrays = o.dropArrays;
   return job;
}

int body(const tpcml::apps::Cli &cli, const Options &o)
{
   return cli.timed([&] {
      const tpcml::HitPeakJob job = jobFromArguments(cli, o);
      return "wrote " + std::to_string(tpcml::hitPeakFiles(job).images) + " images to " + job.output;
   });
}

const tpcml::apps::About kAbout{
    "tpcml-hitpeak",
    "Adds Hit / Peak / HitPeak images (tpcml::HitPeakImager; X1T-CNN Sec. III) to every entry of LXe event trees.",
    "unreadable input or bad array data",
    "Example: tpcml-hitpeak events.root --output images.root --kind hitpeak\n"
    "Inputs need s1_pmt_area, s2_pmt_area, s1_waveform[_top|_bottom], s2_waveform[_top|_bottom]\n"
    "(the events tree of tpcml simulate xenon1t|xenonnt|darwin)."};

void describe(tpcml::apps::Cli &cli, Options &o)
{
   cli.addFileJob(o.files, "input ROOT file(s) with the per-PMT areas and peak waveforms", "tree with the events");
   cli.addText("--kind", o.kind, "hitpeak|hit|peak|raw",
               "image kind (X1T-CNN Figs. 4-6; raw: the arrays concatenated, no drawing)");
   cli.addText("--width", o.width, "W", "image width in pixels (default: HitPeak 75, Hit and Peak 100)");
   cli.addText("--height", o.height, "H", "image height in pixels (default: HitPeak 75, Hit and Peak 50)");
   cli.addLayout(o.layout);
   cli.addDetector(o.detector, "detector whose PMT positions are drawn (default: the inputs' tpcml_detector)");
   cli.addThreads(o.files.threads);
   cli.app().add_flag("--drop-arrays", o.dropArrays, "do not copy the per-PMT and waveform array columns");
   cli.addOutputContract(o.files.contract);
}

} // namespace

int main(int argc, char **argv)
{
   return tpcml::apps::runApp<Options>(argc, argv, kAbout, describe, body);
}
