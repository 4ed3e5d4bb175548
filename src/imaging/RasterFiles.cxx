#include "tpcml/imaging/RasterFiles.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/Provenance.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"

#include <ROOT/RDataFrame.hxx>

#include <sstream>
#include <utility>

namespace tpcml {

namespace {

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

/// The trees of the job with the images added, written to `tempPath` in entry order; (images, hits outside).
std::pair<unsigned long long, unsigned long long> snapshotImages(const RasterJob &job,
                                                                 const TrackRasteriser &rasteriser, unsigned parts,
                                                                 unsigned long long total, const std::string &tempPath)
{
   const std::vector<std::string> &inputs = job.inputs;
   const std::string &tree = job.tree;
   // Threads: images made on contiguous entry ranges in parallel and kept by entry
   // (runInRanges, as tpcml-infer), then written in one ordered pass.
   std::vector<ROOT::RDF::RResultPtr<std::vector<ROOT::RVec<float>>>> images(parts);
   std::vector<ROOT::RDF::RResultPtr<std::vector<unsigned>>> counts(parts);
   std::vector<unsigned long long> begins(parts), ends(parts);
   if (parts > 1) {
      EventProgress progress("rasterising " + job.output, total, job.progress);
      runInRanges(
          inputs, tree, total, parts,
          [&](unsigned t, ROOT::RDF::RNode node, unsigned long long b, unsigned long long e) {
             auto withImage = defineTrackImage(node, "image", rasteriser);
             images[t] = withImage.Take<ROOT::RVec<float>>("image");
             counts[t] = withImage.Take<unsigned>("image_outside");
             progress.attach(withImage);
             begins[t] = b;
             ends[t] = e;
          },
          [&](unsigned t, unsigned long long, unsigned long long) {
             images[t].GetValue();
             counts[t].GetValue();
          });
   }
   ROOT::RDataFrame df(tree, inputs);
   std::vector<std::string> keep;
   for (const std::string &c : df.GetColumnNames())
      if (!job.dropHits || c.rfind("hit_", 0) != 0)
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
      node = defineTrackImage(df, "image", rasteriser);
   }
   keep.push_back("image");
   keep.push_back("image_outside");
   auto count = node.Count();
   auto outside = node.Sum<unsigned>("image_outside");
   EventProgress progress((parts > 1 ? "writing " : "rasterising ") + job.output, total, job.progress);
   progress.attach(node);
   node.Snapshot(tree, tempPath, keep, snapshotOptions(job.format));
   return {*count, *outside};
}

} // namespace

RasterSummary rasterFiles(const RasterJob &job)
{
   auto say = [&job](const std::string &m) {
      if (job.log)
         job.log(m);
   };
   const std::vector<std::string> &inputs = job.inputs;
   const std::string &tree = job.tree;
   if (job.threads < 1 || job.threads > 1024)
      throw UsageError("threads must be in [1, 1024], got " + std::to_string(job.threads));
   checkFormat(job.format);
   requireDistinctOutput(job.output, inputs);
   const TrackRasteriser rasteriser(job.options);
   const std::vector<std::string> hits = {"hit_plane", "hit_strip", "hit_time", "hit_charge"};
   std::vector<long long> entries;
   std::vector<TreeSummary> summaries; // each file opened once to check and count
   for (const std::string &f : inputs) {
      summaries.push_back(describeTree(f, tree));
      requireColumns(summaries.back(), hits);
      entries.push_back(summaries.back().entries);
   }
   requireOneFormat(summaries);
   const std::string detector = checkDetector(inputs, "", "", job.allowDetectorMismatch);
   unsigned long long total = 0;
   for (long long e : entries)
      total += static_cast<unsigned long long>(e);
   unsigned parts = job.threads;
   const double bytes = double(total) * double(rasteriser.imageSize()) * sizeof(float);
   const std::size_t avail = availableMemory(); // 0: unknown, as requireMemory takes it
   if (parts > 1 && avail > 0 && double(avail) * 0.5 < bytes) {
      std::ostringstream m;
      m << "the images of " << total << " entries (" << bytes / double(1ULL << 30)
        << " GiB) exceed half the available memory: rasterising on 1 thread, streamed";
      say(m.str());
      parts = 1;
   }
   {
      std::ostringstream m;
      m << inputs.size() << " file(s), " << total << " entries, images of " << rasteriser.side() << " x "
        << rasteriser.side() << " x 3 (" << (job.options.channelsFirst ? "nchw" : "nhwc") << "), pixels of "
        << job.options.pixelSize << " mm, v_d " << job.options.driftVelocity << " mm/us, " << parts
        << " thread(s), entry order kept";
      say(m.str());
   }

   AtomicOutput out(job.output);
   std::pair<unsigned long long, unsigned long long> written;
   try {
      written = snapshotImages(job, rasteriser, parts, total, out.tempPath());
   } catch (const TrackHitError &e) { // bad data in a file: an input error (exit 1)
      const std::string what = e.what();
      const auto at = what.find("hit " + std::to_string(e.hit));
      throw InputError(locate(inputs, entries, tree, e.event) + ", branch '" + hits[std::size_t(e.column)] + "', " +
                       (at == std::string::npos ? what : what.substr(at)));
   } catch (const UsageError &e) {
      throw InputError(std::string(e.what()) + " (in " + join(inputs) + ", tree '" + tree + "')");
   } catch (const InputError &e) {
      throw InputError(join(inputs) + ", tree '" + tree + "': " + e.what());
   }
   OutputMetadata meta;
   meta.detector = detector;
   meta.provenance = provenanceJson(job.commandLine, inputs);
   meta.carryFrom = inputs;
   writeOutputMetadata(out.tempPath(), meta);
   out.commit();
   RasterSummary sum;
   sum.images = written.first;
   sum.outside = written.second;
   sum.threads = parts;
   return sum;
}

} // namespace tpcml
