#include "tpcml/imaging/RasterFiles.h"

#include "tpcml/anomaly/AnomalyScore.h"

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
#include <type_traits>
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

/// What differs between the image jobs: the kernel's output columns, how they are defined, what the log says
/// about the images, and which input columns are not copied.
struct ImageKernel {
   std::function<ROOT::RDF::RNode(ROOT::RDF::RNode)> define; ///< adds the columns below
   std::string image = "image";                              ///< the RVec<float> column (image or vector)
   bool writeImage = true;                                   ///< the image column is written
   std::string count;         ///< an unsigned column summed into RasterSummary::outside ("image_outside"; may be empty)
   std::string value;         ///< a double column (the anomaly score; may be empty)
   std::size_t imageSize = 0; ///< floats per image
   std::string describe;      ///< the images, for the log
   std::function<bool(const std::string &column)> drop; ///< input columns not copied (may be empty)
   std::function<void(const UsageError &, const std::function<std::string(long long)> &)> badData; ///< may rethrow
};

/// One output column of type T computed on contiguous entry ranges in parallel (runInRanges) and kept by part,
/// then defined again by entry number for the ordered writing pass.
template <class T> struct KeptColumn {
   std::string name;
   std::vector<ROOT::RDF::RResultPtr<std::vector<T>>> parts;
   bool used() const { return !name.empty(); }
   void take(unsigned t, ROOT::RDF::RNode &node)
   {
      if (used())
         parts[t] = node.Take<T>(name);
   }
   void run(unsigned t)
   {
      if (used())
         parts[t].GetValue();
   }
   /// `where(entry)` -> (part, index); an RVec<float> is a view of the kept one (no copy).
   template <class Where> ROOT::RDF::RNode define(ROOT::RDF::RNode node, Where where)
   {
      if (!used())
         return node;
      return node.Define(name,
                         [this, where](ULong64_t e) {
                            const auto [t, i] = where(e);
                            T &v = (*parts[t])[i];
                            if constexpr (std::is_same_v<T, ROOT::RVec<float>>)
                               return ROOT::RVec<float>(v.data(), v.size());
                            else
                               return v;
                         },
                         {"rdfentry_"});
   }
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
   KeptColumn<ROOT::RVec<float>> images{kernel.writeImage ? kernel.image : "", {}};
   KeptColumn<unsigned> counts{kernel.count, {}};
   KeptColumn<double> values{kernel.value, {}};
   images.parts.resize(parts);
   counts.parts.resize(parts);
   values.parts.resize(parts);
   std::vector<unsigned long long> begins(parts), ends(parts);
   if (parts > 1) {
      EventProgress progress("imaging " + job.output, total, job.progress);
      runInRanges(
          inputs, tree, total, parts,
          [&](unsigned t, ROOT::RDF::RNode node, unsigned long long b, unsigned long long e) {
             auto withImage = kernel.define(node);
             images.take(t, withImage);
             counts.take(t, withImage);
             values.take(t, withImage);
             progress.attach(withImage);
             begins[t] = b;
             ends[t] = e;
          },
          [&](unsigned t, unsigned long long, unsigned long long) {
             images.run(t);
             counts.run(t);
             values.run(t);
          });
   }
   ROOT::RDataFrame df(tree, inputs);
   std::vector<std::string> keep;
   for (const std::string &c : df.GetColumnNames())
      if (!kernel.drop || !kernel.drop(c))
         keep.push_back(c);
   ROOT::RDF::RNode node = df;
   if (parts > 1) {
      // entry -> (part, index)
      auto where = [&begins, &ends, parts](ULong64_t e) {
         unsigned t = 0;
         while (t + 1 < parts && !(e >= begins[t] && e < ends[t]))
            ++t;
         return std::make_pair(t, std::size_t(e - begins[t]));
      };
      node = values.define(counts.define(images.define(df, where), where), where);
   } else {
      node = kernel.define(df);
   }
   for (const std::string *c : {&images.name, &counts.name, &values.name})
      if (!c->empty())
         keep.push_back(*c);
   auto count = node.Count();
   decltype(node.Sum<unsigned>("")) outside;
   if (counts.used())
      outside = node.Sum<unsigned>(kernel.count);
   EventProgress progress((parts > 1 ? "writing " : "imaging ") + job.output, total, job.progress);
   progress.attach(node);
   node.Snapshot(tree, tempPath, keep, snapshotOptions(job.format));
   return {*count, counts.used() ? static_cast<unsigned long long>(*outside) : 0ULL};
}

/// The detector of an LXe job: `given` (registry name or TOML file), else the inputs' tpcml_detector; an
/// InputError when neither names one (`role`: what the detector's PMTs do for the job).
std::string lxeJobDetector(const ImageJobBase &job, const std::string &given, const std::string &inputsDetector,
                           const std::string &role)
{
   const std::string name = given.empty() ? inputsDetector : given;
   if (name.empty())
      throw InputError(join(job.inputs) + ": no tpcml_detector in the input(s); give the detector whose PMT " + role +
                       " (--detector NAME|FILE; Python: detector=...)");
   return name;
}

/// The drop predicate of the array columns `columns` (the --drop-arrays of the LXe jobs).
std::function<bool(const std::string &)> dropping(const std::vector<std::string> &columns)
{
   return [&columns](const std::string &c) { return std::find(columns.begin(), columns.end(), c) != columns.end(); };
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
   const double bytes = double(total) * (double(kernel.writeImage ? kernel.imageSize : 0) * sizeof(float) + 16.);
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
   kernel.count = "image_outside";
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
   const std::string name =
       lxeJobDetector(job, job.detector, checkImageJob(job, columns, entries), "positions the images draw");
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
      kernel.drop = dropping(hitPeakColumns());
   return runImageJob(job, kernel, entries, name);
}

RasterSummary vectorFiles(const VectorJob &job)
{
   const std::vector<std::string> &columns = eventVectorColumns();
   const std::vector<std::string> models = {job.encoder, job.decoder, job.classifier};
   const auto given = std::count_if(models.begin(), models.end(), [](const std::string &m) { return !m.empty(); });
   if (given != 0 && given != 3)
      throw UsageError("the anomaly score needs all three graphs (encoder, decoder, classifier); got " +
                       std::to_string(given));
   if (job.dropVector && given == 0)
      throw UsageError("dropping the vector column leaves nothing to write without the anomaly score's graphs");
   if (given)
      requireDistinctOutput(job.output, models);
   std::vector<long long> entries;
   const std::string name =
       lxeJobDetector(job, job.detector, checkImageJob(job, columns, entries), "counts set the vector");
   const EventVectorBuilder builder(DetectorConfig::load(name), job.options);
   std::unique_ptr<AnomalyScore> score;
   if (given) {
      score = std::make_unique<AnomalyScore>(job.encoder, job.decoder, job.classifier, job.R);
      if (score->eventSize() != builder.size())
         throw InputError("the anomaly score's graphs take vectors of " + std::to_string(score->eventSize()) +
                          " values; " + name + "'s event vector has " + std::to_string(builder.size()) + " (" +
                          job.encoder + ")");
   }
   ImageKernel kernel;
   kernel.image = job.name;
   kernel.writeImage = !job.dropVector;
   kernel.value = score ? job.scoreName : "";
   kernel.define = [&](ROOT::RDF::RNode n) {
      auto v = defineEventVector(n, job.name, builder, columns);
      // each entry range's event loop runs with slot 0 at the same time as the others: sessions of its own
      return score ? defineAnomalyScore(v, job.scoreName, score->withOwnSessions(), job.name) : v;
   };
   kernel.imageSize = builder.size();
   kernel.describe = "event vectors of " + std::to_string(builder.size()) + " values (" +
                     eventVectorNormName(job.options.norm) + ", " + std::to_string(builder.nTop()) + " + " +
                     std::to_string(builder.nBottom()) + " PMTs of " + name + ")";
   if (score) {
      std::ostringstream d;
      d << " and the anomaly score " << job.scoreName << " (R = " << job.R << ", beta = " << score->beta() << ")";
      kernel.describe += d.str();
   }
   if (job.dropArrays)
      kernel.drop = dropping(hitPeakColumns());
   return runImageJob(job, kernel, entries, name);
}

} // namespace tpcml
