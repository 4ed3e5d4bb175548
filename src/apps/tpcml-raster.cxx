// tpcml-raster -- XZ/YZ track images of strip-readout TPC events (PandaX-III, P3-CNN Sec. 3.2).
//
//   tpcml-raster --input tracks.root [more.root ...] --output images.root [--tree events]
//                [--pixels 64] [--pixel-size 3] [--upscale 2] [--layout nhwc|nchw]
//                [--detector pandax3] [--threads N] [--drop-hits]
//
// Adds to every entry the image (RVec<float>, side x side x 3 or 3 x side x side) made by
// tpcml::TrackRasteriser -- the kernel behind the RDataFrame functor and the Python batch
// door -- and `image_outside`, the hits that fell outside the window. Written under a
// temporary name and renamed when complete. Exit codes: 0 ok, 1 unusable input, 2 bad usage.
#include "ArgParser.h"

#include "tpcml/AtomicFile.h"
#include "tpcml/DetectorConfig.h"
#include "tpcml/Error.h"
#include "tpcml/RootIO.h"
#include "tpcml/TrackRasteriser.h"

#include <ROOT/RDataFrame.hxx>
#include <TROOT.h>

#include <algorithm>
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

int body(const tpcml::apps::ArgParser &args)
{
   const auto t0 = std::chrono::steady_clock::now();
   const std::vector<std::string> inputs = args.getAll("input");
   const std::string tree = args.get("tree"), output = args.get("output"), layout = args.get("layout");
   if (layout != "nhwc" && layout != "nchw")
      throw tpcml::UsageError("--layout expects nhwc or nchw, got '" + layout + "'");
   const auto det = tpcml::DetectorConfig::load(args.get("detector"));
   tpcml::RasterOptions o = tpcml::RasterOptions::fromDetector(det, args.getInt("upscale", 1, 8), layout == "nchw");
   if (args.has("pixels"))
      o.pixels = args.getInt("pixels", 2, 4096);
   if (args.has("pixel-size"))
      o.pixelSize = parsePositive(args, "pixel-size");
   const tpcml::TrackRasteriser rasteriser(o);
   for (const std::string &f : inputs)
      tpcml::requireColumns(f, tree, {"hit_plane", "hit_strip", "hit_time", "hit_charge"});
   const unsigned threads = static_cast<unsigned>(args.getInt("threads", 1, 1024));
   if (threads > 1)
      ROOT::EnableImplicitMT(threads);
   std::cerr << "tpcml-raster: " << inputs.size() << " file(s), images of " << rasteriser.side() << " x "
             << rasteriser.side() << " x 3 (" << layout << "), pixels of " << o.pixelSize << " mm, v_d "
             << o.driftVelocity << " mm/us, " << threads << " thread(s)"
             << (threads > 1 ? " (entry order not kept: match entries by their event column)" : "") << "\n";
   ROOT::RDataFrame df(tree, inputs);
   std::vector<std::string> keep;
   for (const std::string &c : df.GetColumnNames())
      if (!args.flag("drop-hits") || c.rfind("hit_", 0) != 0)
         keep.push_back(c);
   auto node = tpcml::defineTrackImage(df, "image", rasteriser);
   keep.push_back("image");
   keep.push_back("image_outside");
   auto count = node.Count();
   auto outside = node.Sum<unsigned>("image_outside");
   tpcml::AtomicOutput out(output);
   ROOT::RDF::RSnapshotOptions opts;
   opts.fLazy = false;
   node.Snapshot(tree, out.tempPath(), keep, opts);
   out.commit();
   const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
   std::cerr << "tpcml-raster: wrote " << *count << " images to " << output << " (" << *outside
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
   parser.addOption("threads", "N", "ROOT ImplicitMT threads (entry order not kept for N > 1)", "1");
   parser.addFlag("drop-hits", "do not copy the hit_* columns to the output");
   parser.setEpilog("exit status: 0 ok, 1 unreadable input, 2 bad arguments\nExample: tpcml-raster --input "
                    "tracks.root --output images.root --upscale 2");
   try {
      if (!parser.parse(argc, argv))
         return 0;
   } catch (const std::exception &e) {
      std::cerr << "tpcml-raster: error: " << e.what() << "\n";
      return 2;
   }
   return tpcml::apps::runMain(parser, body);
}
