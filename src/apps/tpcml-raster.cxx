// tpcml-raster -- XZ/YZ track images of strip-readout TPC events (PandaX-III, P3-CNN Sec. 3.2).
//
//   tpcml-raster --input tracks.root [more.root ...] --output images.root [--tree events]
//                [--pixels 64] [--pixel-size 3] [--upscale 2] [--layout nhwc|nchw]
//                [--detector pandax3] [--threads N] [--drop-hits]
//
// The arguments become a tpcml::RasterJob and tpcml::rasterFiles does the job: it adds to every
// entry the image (RVec<float>, side x side x 3 or 3 x side x side) made by tpcml::TrackRasteriser
// -- the kernel behind the RDataFrame functor and the Python batch door -- and `image_outside`,
// the hits that fell outside the window. Written under a
// temporary name and renamed when complete. Exit codes: 0 ok, 1 unusable input, 2 bad usage.
#include "ArgParser.h"

#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/imaging/RasterFiles.h"

#include <chrono>
#include <iostream>

namespace {

double parsePositive(const tpcml::apps::ArgParser &args, const std::string &opt)
{
   const std::string text = args.get(opt);
   try {
      std::size_t used = 0;
      const double v = std::stod(text, &used);
      if (used == text.size() && v > 0.)
         return v;
   } catch (const std::exception &) {
   }
   throw tpcml::UsageError("--" + opt + " expects a positive number, got '" + text + "'");
}

/// The command line as a rasterising job.
tpcml::RasterJob jobFromArguments(const tpcml::apps::ArgParser &args)
{
   tpcml::RasterJob job;
   job.inputs = args.getAll("input");
   job.tree = args.get("tree");
   job.output = args.get("output");
   const std::string layout = args.get("layout");
   if (layout != "nhwc" && layout != "nchw")
      throw tpcml::UsageError("--layout expects nhwc or nchw, got '" + layout + "'");
   const int upscale = args.getInt("upscale", 1, 8);
   const int pixels = args.has("pixels") ? args.getInt("pixels", 2, 4096) : 0;
   const double pixelSize = args.has("pixel-size") ? parsePositive(args, "pixel-size") : 0.;
   job.threads = static_cast<unsigned>(args.getInt("threads", 1, 1024));
   job.options =
       tpcml::RasterOptions::fromDetector(tpcml::DetectorConfig::load(args.get("detector")), upscale, layout == "nchw");
   if (pixels)
      job.options.pixels = pixels;
   if (pixelSize > 0.)
      job.options.pixelSize = pixelSize;
   job.dropHits = args.flag("drop-hits");
   job.format = args.get("format");
   job.allowDetectorMismatch = args.flag("allow-detector-mismatch");
   job.commandLine = args.argv();
   job.log = [](const std::string &m) { std::cerr << "tpcml-raster: " << m << "\n"; };
   return job;
}

int body(const tpcml::apps::ArgParser &args)
{
   const auto t0 = std::chrono::steady_clock::now();
   const tpcml::RasterJob job = jobFromArguments(args);
   const auto sum = tpcml::rasterFiles(job);
   const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
   std::cerr << "tpcml-raster: wrote " << sum.images << " images to " << job.output << " (" << sum.outside
             << " hits outside the window) in " << s << " s\n";
   return 0;
}

} // namespace

int main(int argc, char **argv)
{
   tpcml::apps::ArgParser parser(
       "tpcml-raster",
       "Adds XZ/YZ track images (tpcml::TrackRasteriser; P3-CNN Sec. 3.2) to every entry of ROOT trees of strip hits.");
   parser.addOption("input", "FILE", "input ROOT file(s) with hit_plane, hit_strip, hit_time, hit_charge", "", true,
                    true);
   parser.addOption("tree", "NAME", "tree name", "events");
   parser.addOption("output", "OUT.root", "output ROOT file (written atomically)", "", true);
   parser.addOption("detector", "NAME", "detector registry entry for pixels, pixel size and drift velocity", "pandax3");
   parser.addOption("pixels", "N", "pixels per side before upscaling (default: the detector's image_pixels)");
   parser.addOption("pixel-size", "MM", "pixel size in mm (default: the detector's pixel_size)");
   parser.addOption("upscale", "K", "nearest-neighbour upscaling factor (P3-CNN: 2 for 128 x 128)", "1");
   parser.addOption("layout", "nhwc|nchw", "image layout", "nhwc");
   parser.addOption("threads", "N", "threads (entry order kept whatever N)", "1");
   parser.addFlag("drop-hits", "do not copy the hit_* columns to the output");
   parser.addOption("format", "ttree|rntuple",
                    "output tree format: ttree (a TTree, the default) or rntuple (an RNTuple)", "ttree");
   parser.addFlag("allow-detector-mismatch", "rasterise inputs tagged (tpcml_detector) with different detectors");
   parser.setEpilog(
       "exit status: 0 ok, 1 unreadable input or bad hit data, 2 bad arguments\nExample: tpcml-raster --input "
       "tracks.root --output images.root --upscale 2");
   return tpcml::apps::runMain(parser, argc, argv, body);
}
