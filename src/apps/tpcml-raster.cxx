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

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"
#include "tpcml/imaging/TrackRasteriser.h"

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

/// "file 'f.root', tree 'events', entry 12" from the dataset's entry number over `files`.
std::string locate(const std::vector<std::string> &files, const std::vector<long long> &entries,
                   const std::string &tree, long long entry)
{
   for (std::size_t k = 0; k < files.size(); ++k) {
      if (entry < entries[k])
         return "'" + files[k] + "', tree '" + tree + "', entry " + std::to_string(entry);
      entry -= entries[k];
   }
   return "tree '" + tree + "', entry " + std::to_string(entry);
}

int body(const tpcml::apps::ArgParser &args)
{
   const auto t0 = std::chrono::steady_clock::now();
   const std::vector<std::string> inputs = args.getAll("input");
   const std::string tree = args.get("tree"), output = args.get("output"), layout = args.get("layout");
   tpcml::requireDistinctOutput(output, inputs);
   if (layout != "nhwc" && layout != "nchw")
      throw tpcml::UsageError("--layout expects nhwc or nchw, got '" + layout + "'");
   const int upscale = args.getInt("upscale", 1, 8);
   const int pixels = args.has("pixels") ? args.getInt("pixels", 2, 4096) : 0;
   const double pixelSize = args.has("pixel-size") ? parsePositive(args, "pixel-size") : 0.;
   const auto threads = static_cast<unsigned>(args.getInt("threads", 1, 1024));
   const auto det = tpcml::DetectorConfig::load(args.get("detector"));
   tpcml::RasterOptions o = tpcml::RasterOptions::fromDetector(det, upscale, layout == "nchw");
   if (pixels)
      o.pixels = pixels;
   if (pixelSize > 0.)
      o.pixelSize = pixelSize;
   const tpcml::TrackRasteriser rasteriser(o);
   const std::vector<std::string> hits = {"hit_plane", "hit_strip", "hit_time", "hit_charge"};
   std::vector<long long> entries;
   std::vector<tpcml::TreeSummary> summaries; // each file opened once to check and count
   for (const std::string &f : inputs) {
      summaries.push_back(tpcml::describeTree(f, tree));
      tpcml::requireColumns(summaries.back(), hits);
      entries.push_back(summaries.back().entries);
   }
   tpcml::requireOneFormat(summaries);
   unsigned long long total = 0;
   for (long long e : entries)
      total += static_cast<unsigned long long>(e);
   unsigned parts = threads;
   const double bytes = double(total) * double(rasteriser.imageSize()) * sizeof(float);
   const std::size_t avail = tpcml::availableMemory(); // 0: unknown, as requireMemory takes it
   if (parts > 1 && avail > 0 && double(avail) * 0.5 < bytes) {
      std::cerr << "tpcml-raster: the images of " << total << " entries (" << bytes / double(1ULL << 30)
                << " GiB) exceed half the available memory: rasterising on 1 thread, streamed\n";
      parts = 1;
   }
   std::cerr << "tpcml-raster: " << inputs.size() << " file(s), " << total << " entries, images of "
             << rasteriser.side() << " x " << rasteriser.side() << " x 3 (" << layout << "), pixels of " << o.pixelSize
             << " mm, v_d " << o.driftVelocity << " mm/us, " << parts << " thread(s), entry order kept\n";

   tpcml::AtomicOutput out(output);
   ROOT::RDF::RResultPtr<ULong64_t> count;
   ROOT::RDF::RResultPtr<unsigned> outside;
   try {
      // Threads: images made on contiguous entry ranges in parallel and kept by entry
      // (tpcml::runInRanges, as tpcml-infer), then written in one ordered pass.
      std::vector<ROOT::RDF::RResultPtr<std::vector<ROOT::RVec<float>>>> images(parts);
      std::vector<ROOT::RDF::RResultPtr<std::vector<unsigned>>> counts(parts);
      std::vector<unsigned long long> begins(parts), ends(parts);
      if (parts > 1)
         tpcml::runInRanges(
             inputs, tree, total, parts,
             [&](unsigned t, ROOT::RDF::RNode node, unsigned long long b, unsigned long long e) {
                auto withImage = tpcml::defineTrackImage(node, "image", rasteriser);
                images[t] = withImage.Take<ROOT::RVec<float>>("image");
                counts[t] = withImage.Take<unsigned>("image_outside");
                begins[t] = b;
                ends[t] = e;
             },
             [&](unsigned t, unsigned long long, unsigned long long) {
                images[t].GetValue();
                counts[t].GetValue();
             });
      ROOT::RDataFrame df(tree, inputs);
      std::vector<std::string> keep;
      for (const std::string &c : df.GetColumnNames())
         if (!args.flag("drop-hits") || c.rfind("hit_", 0) != 0)
            keep.push_back(c);
      ROOT::RDF::RNode node = df;
      if (parts > 1) {
         // entry -> (part, index); the image is a view of the kept one (no copy)
         auto where = [&begins, &ends, parts](ULong64_t e) {
            unsigned t = 0;
            while (t + 1 < parts && !(e >= begins[t] && e < ends[t]))
               ++t;
            return std::make_pair(t, std::size_t(e - begins[t]));
         };
         node = df.Define("image",
                          [&images, where](ULong64_t e) {
                             const auto [t, i] = where(e);
                             ROOT::RVec<float> &v = (*images[t])[i];
                             return ROOT::RVec<float>(v.data(), v.size());
                          },
                          {"rdfentry_"})
                    .Define("image_outside",
                            [&counts, where](ULong64_t e) {
                               const auto [t, i] = where(e);
                               return (*counts[t])[i];
                            },
                            {"rdfentry_"});
      } else {
         node = tpcml::defineTrackImage(df, "image", rasteriser);
      }
      keep.push_back("image");
      keep.push_back("image_outside");
      count = node.Count();
      outside = node.Sum<unsigned>("image_outside");
      ROOT::RDF::RSnapshotOptions opts;
      opts.fLazy = false;
      node.Snapshot(tree, out.tempPath(), keep, opts);
   } catch (const tpcml::TrackHitError &e) { // bad data in a file: an input error (exit 1)
      const std::string what = e.what();
      const auto at = what.find("hit " + std::to_string(e.hit));
      throw tpcml::InputError(locate(inputs, entries, tree, e.event) + ", branch '" + hits[std::size_t(e.column)] +
                              "', " + (at == std::string::npos ? what : what.substr(at)));
   } catch (const tpcml::UsageError &e) {
      throw tpcml::InputError(std::string(e.what()) + " (in " + tpcml::join(inputs) + ", tree '" + tree + "')");
   } catch (const tpcml::InputError &e) {
      throw tpcml::InputError(tpcml::join(inputs) + ", tree '" + tree + "': " + e.what());
   }
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
   parser.addOption("threads", "N", "threads (entry order kept whatever N)", "1");
   parser.addFlag("drop-hits", "do not copy the hit_* columns to the output");
   parser.setEpilog(
       "exit status: 0 ok, 1 unreadable input or bad hit data, 2 bad arguments\nExample: tpcml-raster --input "
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
