#include "tpcml/imaging/RasterFiles.h"

#include "tpcml/core/AtomicFile.h"
#include "tpcml/core/DetectorConfig.h"
#include "tpcml/core/Error.h"
#include "tpcml/core/Provenance.h"
#include "tpcml/core/RootIO.h"
#include "tpcml/core/Strings.h"

#include <ROOT/RDataFrame.hxx>

#include <algorithm>
#include <functional>
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

/// What differs between the image jobs: the kernel's input columns, how the image columns are defined,
/// what the log says about the images, and which input columns are not copied.
struct ImageKernel {
   std::function<ROOT::RDF::RNode(ROOT::RDF::RNode)> define; ///< adds "image" (and "image_outside")
   bool withOutside = false;                                 ///< "image_outside" (unsigned) exists
   std::size_t imageSize = 0;                                ///< floats per image
   std::string describe;                                     ///< the images, for the log
   std::function<bool(const std::string &column)> drop;      ///< input columns not copied (may be empty)
   std::function<void(const UsageError &, const std::function<std::string(long long)> &)> badData; ///< may rethrow
};

/// The trees of the job with the images added, written to `tempPath` in entry order; (images, outside).
std::pair<unsigned long long, unsigned long long> snapshotImages(const ImageJobBase &job, const ImageKernel &kernel,
                                                                 unsigned parts, unsigned long long total,
                                                                 const std::string &tempPath)
{
   const std::vector<std::string> &inputs = job.inputs;
   const std::string &tree = job.tree;
   // Threads: images made on contiguous entry ranges in parallel and kept by entry
   // (runInRanges, as tpcml-infer), then written in one ordered pass.
   std::vector<ROOT::RDF::RResultPtr<std::vector<ROOT::RVec<float>>>> images(parts);
   std::vector<ROOT::RDF::RResultPtr<std::vector<unsigned>>> counts(parts);
   std::vector<unsigned long long> begins(parts), ends(parts);
   if (parts > 1) {
      EventProgress progress("imaging " + job.output, total, job.progress);
      runInRanges(
          inputs, tree, total, parts,
          [&](unsigned t, ROOT::RDF::RNode node, unsigned long long b, unsigned long long e) {
             auto withImage = kernel.define(node);
             images[t] = withImage.Take<ROOT::RVec<float>>("image");
             if (kernel.withOutside)
                counts[t] = withImage.Take<unsigned>("image_outside");
             progress.attach(withImage);
             begins[t] = b;
             ends[t] = e;
          },
          [&](unsigned t, unsigned long long, unsigned long long) {
             images[t].GetValue();
             if (kernel.withOutside)
                counts[t].GetValue();
          });
   }
   ROOT::RDataFrame df(tree, inputs);
   std::vector<std::string> keep;
   for (const std::string &c : df.GetColumnNames())
      if (!kernel.drop || !kernel.drop(c))
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
                       {"rdfentry_"});
      if (kernel.withOutside)
         node = node.Define("image_outside",
                            [&counts, where](ULong64_t e) {
                               const auto [t, i] = where(e);
                               return (*counts[t])[i];
                            },
                            {"rdfentry_"});
   } else {
      node = kernel.define(df);
   }
   keep.push_back("image");
   if (kernel.withOutside)
      keep.push_back("image_outside");
   auto count = node.Count();
   decltype(node.Sum<unsigned>("")) outside;
   if (kernel.withOutside)
      outside = node.Sum<unsigned>("image_outside");
   EventProgress progress((parts > 1 ? "writing " : "imaging ") + job.output, total, job.progress);
   progress.attach(node);
   node.Snapshot(tree, tempPath, keep, snapshotOptions(job.format));
   return {*count, kernel.withOutside ? static_cast<unsigned long long>(*outside) : 0ULL};
}

/// The shared job: checks, thread plan (1 thread when the images would not fit in memory), the ordered
/// snapshot into a temporary file, the file contract, the rename.
RasterSummary runImageJob(const ImageJobBase &job, const ImageKernel &kernel, const std::vector<long long> &entries,
                          const std::string &detector)
{
   auto say = [&job](const std::string &m) {
      if (job.log)
         job.log(m);
   };
   const std::vector<std::string> &inputs = job.inputs;
   const std::string &tree = job.tree;
   unsigned long long total = 0;
   for (long long e : entries)
      total += static_cast<unsigned long long>(e);
   unsigned parts = job.threads;
   const double bytes = double(total) * double(kernel.imageSize) * sizeof(float);
   const std::size_t avail = availableMemory(); // 0: unknown, as requireMemory takes it
   if (parts > 1 && avail > 0 && double(avail) * 0.5 < bytes) {
      std::ostringstream m;
      m << "the images of " << total << " entries (" << bytes / double(1ULL << 30)
        << " GiB) exceed half the available memory: imaging on 1 thread, streamed";
      say(m.str());
      parts = 1;
   }
   say(std::to_string(inputs.size()) + " file(s), " + std::to_string(total) + " entries, " + kernel.describe + ", " +
       std::to_string(parts) + " thread(s), entry order kept");

   AtomicOutput out(job.output);
   std::pair<unsigned long long, unsigned long long> written;
   const auto where = [&](long long entry) { return locate(inputs, entries, tree, entry); };
   try {
      written = snapshotImages(job, kernel, parts, total, out.tempPath());
   } catch (const UsageError &e) { // bad data in a file: an input error (exit 1)
      if (kernel.badData)
         kernel.badData(e, where);
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

/// Checks shared by the jobs before any work: thread count, format, distinct output, the inputs' trees,
/// columns and formats (each file opened once); fills the entries per file and returns the inputs'
/// detector (checkDetector).
std::string checkImageJob(const ImageJobBase &job, const std::vector<std::string> &columns,
                          std::vector<long long> &entries)
{
   if (job.threads < 1 || job.threads > 1024)
      throw UsageError("threads must be in [1, 1024], got " + std::to_string(job.threads));
   checkFormat(job.format);
   requireDistinctOutput(job.output, job.inputs);
   std::vector<TreeSummary> summaries;
   for (const std::string &f : job.inputs) {
      summaries.push_back(describeTree(f, job.tree));
      requireColumns(summaries.back(), columns);
      entries.push_back(summaries.back().entries);
   }
   requireOneFormat(summaries);
   return checkDetector(job.inputs, "", "", job.allowDetectorMismatch);
}

} // namespace

RasterSummary rasterFiles(const RasterJob &job)
{
   const std::vector<std::string> hits = {"hit_plane", "hit_strip", "hit_time", "hit_charge"};
   std::vector<long long> entries;
   const std::string detector = checkImageJob(job, hits, entries);
   const TrackRasteriser rasteriser(job.options);
   ImageKernel kernel;
   kernel.define = [&rasteriser](ROOT::RDF::RNode n) { return defineTrackImage(n, "image", rasteriser); };
   kernel.withOutside = true;
   kernel.imageSize = rasteriser.imageSize();
   std::ostringstream d;
   d << "images of " << rasteriser.side() << " x " << rasteriser.side() << " x 3 ("
     << (job.options.channelsFirst ? "nchw" : "nhwc") << "), pixels of " << job.options.pixelSize << " mm, v_d "
     << job.options.driftVelocity << " mm/us";
   kernel.describe = d.str();
   if (job.dropHits)
      kernel.drop = [](const std::string &c) { return c.rfind("hit_", 0) == 0; };
   kernel.badData = [&hits](const UsageError &err, const std::function<std::string(long long)> &where) {
      const auto *e = dynamic_cast<const TrackHitError *>(&err);
      if (!e)
         return;
      const std::string what = e->what();
      const auto at = what.find("hit " + std::to_string(e->hit));
      throw InputError(where(e->event) + ", branch '" + hits[std::size_t(e->column)] + "', " +
                       (at == std::string::npos ? what : what.substr(at)));
   };
   return runImageJob(job, kernel, entries, detector);
}

RasterSummary hitPeakFiles(const HitPeakJob &job)
{
   const std::vector<std::string> &columns = hitPeakColumns();
   std::vector<long long> entries;
   const std::string inputsDetector = checkImageJob(job, columns, entries);
   const std::string name = job.detector.empty() ? inputsDetector : job.detector;
   if (name.empty())
      throw InputError(join(job.inputs) + ": no tpcml_detector in the input(s); give the detector whose PMT "
                                          "positions the images draw (--detector NAME|FILE; Python: detector=...)");
   const HitPeakImager imager(DetectorConfig::load(name), job.options);
   ImageKernel kernel;
   kernel.define = [&imager, &columns](ROOT::RDF::RNode n) { return defineHitPeakImage(n, "image", imager, columns); };
   kernel.imageSize = imager.imageSize();
   const std::string kind = hitPeakKindName(job.options.kind);
   kernel.describe = job.options.kind == HitPeakKind::kRaw
                         ? "raw tensors of " + std::to_string(imager.imageSize()) + " values"
                         : kind + " images of " + std::to_string(imager.height()) + " x " +
                               std::to_string(imager.width()) + " x 3 (" +
                               (job.options.channelsFirst ? "nchw" : "nhwc") + "), " + std::to_string(imager.nPmt()) +
                               " PMTs of " + name;
   if (job.dropArrays)
      kernel.drop = [&columns](const std::string &c) {
         return std::find(columns.begin(), columns.end(), c) != columns.end();
      };
   return runImageJob(job, kernel, entries, name);
}

} // namespace tpcml
