// tpcml-raster -- XZ/YZ track images of strip-readout TPC events (PandaX-III, P3-CNN Sec. 3.2).
//
//   tpcml-raster tracks.root [more.root ...] --output images.root [--tree events]
//                [--pixels 64] [--pixel-size 3] [--upscale 2] [--layout nhwc|nchw]
//                [--detector pandax3] [--threads N] [--drop-hits] [-q]
//
// The arguments become a tpcml::RasterJob and tpcml::rasterFiles does the job: it adds to every
// entry the image (RVec<float>, side x side x 3 or 3 x side x side) made by tpcml::TrackRasteriser
// -- the kernel behind the RDataFrame functor and the Python batch door -- and `image_outside`,
// the hits that fell outside the window. Written under a
// temporary name and renamed when complete. Exit codes: 0 ok, 1 unusable input, 2 bad usage.
#include "Cli.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/imaging/RasterFiles.h"

#include <string>

namespace {

/// The options as given (text; converted in jobFromArguments so errors name the option and value).
struct Options {
   tpcml::apps::FileJobOptions files;
   std::string detector = "pandax3", pixels, pixelSize, upscale = "1", layout = "nhwc";
   bool dropHits = false;
};

double parsePositive(const std::string &option, const std::string &text)
{
   try {
      std::size_t used = 0;
      const double v = std::stod(text, &used);
      if (used == text.size() && v > 0.)
         return v;
   } catch (const std::exception &) {
   }
   throw tpcml::UsageError("--" + option + " expects a positive number, got '" + text + "'");
}

/// The command line as a rasterising job.
tpcml::RasterJob jobFromArguments(const tpcml::apps::Cli &cli, const Options &o)
{
   tpcml::RasterJob job;
   cli.applyFileJob(job, o.files);
   const int upscale = tpcml::apps::toInt("upscale", o.upscale, 1, 8);
   const int pixels = cli.given("pixels") ? tpcml::apps::toInt("pixels", o.pixels, 2, 4096) : 0;
   const double pixelSize = cli.given("pixel-size") ? parsePositive("pixel-size", o.pixelSize) : 0.;
   job.options = tpcml::RasterOptions::fromDetector(tpcml::DetectorConfig::load(o.detector), upscale,
                                                    tpcml::apps::channelsFirst(o.layout));
   if (pixels)
      job.options.pixels = pixels;
   if (pixelSize > 0.)
      job.options.pixelSize = pixelSize;
   job.dropHits = o.dropHits;
   return job;
}

int body(const tpcml::apps::Cli &cli, const Options &o)
{
   return cli.timed([&] {
      const tpcml::RasterJob job = jobFromArguments(cli, o);
      const auto sum = tpcml::rasterFiles(job);
      return "wrote " + std::to_string(sum.images) + " images to " + job.output + " (" + std::to_string(sum.outside) +
             " hits outside the window)";
   });
}

const tpcml::apps::About kAbout{
    "tpcml-raster",
    "Adds XZ/YZ track images (tpcml::TrackRasteriser; P3-CNN Sec. 3.2) to every entry of ROOT trees of strip hits.",
    "unreadable input or bad hit data",
    "Example: tpcml-raster tracks.root --output images.root --upscale 2\nThe same job: tpcml raster (Python)."};

void describe(tpcml::apps::Cli &cli, Options &o)
{
   cli.addFileJob(o.files, "input ROOT file(s) with hit_plane, hit_strip, hit_time, hit_charge",
                  "tree with the strip hits");
   cli.addDetector(o.detector, "detector registry entry for pixels, pixel size and drift velocity");
   cli.addText("--pixels", o.pixels, "N", "pixels per side before upscaling (default: the detector's image_pixels)");
   cli.addText("--pixel-size", o.pixelSize, "MM", "pixel size in mm (default: the detector's pixel_size)");
   cli.addText("--upscale", o.upscale, "K", "nearest-neighbour upscaling factor in [1, 8] (P3-CNN: 2 for 128 x 128)");
   cli.addLayout(o.layout);
   cli.app().add_flag("--drop-hits", o.dropHits, "do not copy the hit_* columns to the output");
   cli.addThreads(o.files.threads);
   cli.addOutputContract(o.files.contract);
}

} // namespace

int main(int argc, char **argv)
{
   return tpcml::apps::runApp<Options>(argc, argv, kAbout, describe, body);
}
