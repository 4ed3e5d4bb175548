// tpcml -- ONNX model loading, plan cache and sessions (see include/tpcml/onnx/Model.h).
#include "tpcml/onnx/Model.h"

#include "onnx/graph/Graph.h"
#include "onnx/kernels/Kernels.h"
#include "onnx/graph/Schema.h"

#include "tpcml/core/Error.h"
#include "tpcml/core/Provenance.h"
#include "tpcml/core/Strings.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <cstring>
#include <map>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tpcml::onnx {

using detail::batchSizeDependence;
using detail::DType;
using detail::Kind;
using detail::ModelImpl;
using detail::Plan;
using detail::Shape;

namespace {

bool isFloatType(int32_t t)
{
   return t == proto::kFloat || t == proto::kDouble || t == proto::kFloat16;
}

std::string trimmed(const std::string &s)
{
   const auto b = s.find_first_not_of(" \t\r\n");
   if (b == std::string::npos)
      return "";
   return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

/// Reads a JSON list of strings (["a", "b"]); a plain comma-separated list also works.
std::vector<std::string> parseNameList(const std::string &text)
{
   std::vector<std::string> out;
   const std::string s = trimmed(text);
   if (s.empty())
      return out;
   if (s.front() != '[') {
      std::stringstream parts(s);
      std::string part;
      while (std::getline(parts, part, ','))
         if (!trimmed(part).empty())
            out.push_back(trimmed(part));
      return out;
   }
   std::size_t k = 1;
   while (k < s.size()) {
      while (k < s.size() && (s[k] == ' ' || s[k] == ',' || s[k] == '\n' || s[k] == '\t'))
         ++k;
      if (k >= s.size() || s[k] == ']')
         break;
      if (s[k] != '"')
         throw ConfigError("metadata list " + s + " is not a JSON list of strings");
      std::string name;
      for (++k; k < s.size() && s[k] != '"'; ++k) {
         if (s[k] == '\\' && k + 1 < s.size())
            ++k;
         name += s[k];
      }
      ++k;
      out.push_back(name);
   }
   return out;
}

} // namespace

Model::Model() : m_impl(std::make_unique<ModelImpl>()) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::string &path)
{
   // Plain POSIX I/O: a directory, FIFO or device (/dev/zero) is refused before reading (O_NONBLOCK:
   // opening a FIFO without a writer does not wait), and errors say why (errno).
   auto failure = [&](const std::string &what, int err) {
      return InputError("cannot read ONNX model file '" + path + "': " + what +
                        (err ? std::string(" (") + std::strerror(err) + ")" : ""));
   };
   const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
   if (fd < 0) {
      const int err = errno;
      throw InputError("cannot open ONNX model file '" + path + "': " + std::strerror(err));
   }
   struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
   } closer{fd};
   struct stat st{};
   if (::fstat(fd, &st) != 0)
      throw failure("cannot stat it", errno);
   if (S_ISDIR(st.st_mode))
      throw failure("it is a directory, not a file", 0);
   if (!S_ISREG(st.st_mode))
      throw failure("it is not a regular file (a FIFO, socket or device); give the path of an .onnx file", 0);
   // protobuf messages are limited to 2 GiB; /proc files report size 0, so read to the end anyway
   constexpr std::size_t kMaxBytes = std::size_t(2) << 30;
   if (std::size_t(st.st_size) > kMaxBytes)
      throw failure("it holds " + std::to_string(st.st_size) + " bytes, more than the 2 GiB an ONNX protobuf can have",
                    0);
   std::string bytes;
   bytes.reserve(std::size_t(st.st_size));
   char buffer[1 << 16];
   for (;;) {
      const ssize_t got = ::read(fd, buffer, sizeof buffer);
      if (got < 0) {
         if (errno == EINTR)
            continue;
         throw failure("read failed", errno);
      }
      if (got == 0)
         break;
      if (bytes.size() + std::size_t(got) > kMaxBytes)
         throw failure("it holds more than the 2 GiB an ONNX protobuf can have", 0);
      bytes.append(buffer, std::size_t(got));
   }
   return fromBytes(bytes, path);
}

namespace {

/// The initializers of the graph, by name (float ones as float, integer ones as int64).
void readInitializers(ModelImpl &m, const std::string &name)
{
   const proto::Graph &g = m.proto.graph;
   try {
      for (const proto::Tensor &t : g.initializer) {
         if (t.name.empty())
            throw InputError("ONNX model '" + name + "' has an initializer without a name");
         m.initShape[t.name] = t.dims;
         if (isFloatType(t.dataType))
            m.floatInit[t.name] = std::make_shared<const std::vector<float>>(t.toFloat());
         else
            m.intInit[t.name] = std::make_shared<const std::vector<int64_t>>(t.toInt64());
      }
   } catch (const proto::ParseError &e) {
      throw InputError("ONNX model '" + name + "': " + e.what());
   }
}

/// The run-time inputs (graph inputs that are no initializer): float32 tensors with every
/// dimension but the first fixed; a free first dimension, on every input or none, is the batch.
void readInputs(ModelImpl &m, const std::string &name)
{
   const proto::Graph &g = m.proto.graph;
   for (const proto::ValueInfo &vi : g.input) {
      if (m.initShape.count(vi.name))
         continue; // an initializer listed among the inputs (IR < 4 style): a constant
      if (!vi.isTensor)
         throw InputError("ONNX model '" + name + "': input '" + vi.name + "' is not a tensor");
      if (vi.elemType != proto::kFloat)
         throw InputError("ONNX model '" + name + "': input '" + vi.name + "' has type " +
                          proto::dataTypeName(vi.elemType) + "; tpcml feeds float32 inputs only");
      if (!vi.hasShape)
         throw InputError("ONNX model '" + name + "': input '" + vi.name + "' has no shape");
      TensorInfo info;
      info.name = vi.name;
      for (std::size_t d = 0; d < vi.shape.size(); ++d) {
         const proto::Dim &dim = vi.shape[d];
         const bool free = !dim.hasValue || dim.value < 0;
         if (free && d != 0)
            throw InputError("ONNX model '" + name + "': input '" + vi.name + "' has a free dimension '" + dim.param +
                             "' at position " + std::to_string(d) +
                             "; tpcml needs every dimension but the first (the batch) fixed");
         info.shape.push_back(free ? -1 : dim.value);
      }
      m.runtimeInputs.push_back(&vi);
      m.inputs.push_back(std::move(info));
   }
   m.batched = std::any_of(m.inputs.begin(), m.inputs.end(),
                           [](const TensorInfo &t) { return !t.shape.empty() && t.shape[0] < 0; });
   if (m.batched)
      for (const TensorInfo &t : m.inputs)
         if (t.shape.empty() || t.shape[0] >= 0)
            throw InputError("ONNX model '" + name + "': input '" + t.name +
                             "' has no batch dimension while other inputs have one");
   for (TensorInfo &t : m.inputs) {
      t.eventSize = 1;
      for (std::size_t d = m.batched ? 1 : 0; d < t.shape.size(); ++d)
         t.eventSize *= t.shape[d];
   }
}

/// The outputs' shapes from the plans at batch 1 and 2 (p2 = p1 when the model is not batched):
/// each must grow with the batch; -1 marks the batch dimension.
void describeOutputs(ModelImpl &m, const Plan &p1, const Plan &p2, const std::string &name)
{
   const proto::Graph &g = m.proto.graph;
   for (std::size_t j = 0; j < p1.outputs.size(); ++j) {
      const Shape &s1 = p1.values[std::size_t(p1.outputs[j])].shape;
      const Shape &s2 = p2.values[std::size_t(p2.outputs[j])].shape;
      TensorInfo info;
      info.name = g.output[j].name;
      info.shape = s1;
      info.eventSize = detail::numel(s1);
      if (m.batched) {
         if (detail::numel(s1) == 0 || detail::numel(s2) != 2 * detail::numel(s1))
            throw InputError("ONNX model '" + name + "': output '" + info.name +
                             "' does not grow with the batch size (shape " + detail::shapeString(s1) + " at batch 1, " +
                             detail::shapeString(s2) + " at batch 2): unsupported, tpcml's outputs are per event");
         // -1 marks the batch dimension: axis 0, or where a graph that mixes events put it
         for (std::size_t d = 0; d < s1.size() && s1.size() == s2.size(); ++d)
            if (s1[d] == 1 && s2[d] == 2) {
               info.shape[d] = -1;
               break;
            }
      }
      m.outputs.push_back(std::move(info));
   }
}

} // namespace

std::shared_ptr<const Model> Model::fromBytes(const std::string &bytes, const std::string &name)
{
   auto loadChecked = [&]() -> std::shared_ptr<const Model> {
      std::shared_ptr<Model> model(new Model());
      ModelImpl &m = *model->m_impl;
      m.name = name;
      m.sha256 = sha256Hex(bytes);
      if (bytes.empty())
         throw InputError("ONNX model '" + name + "' is empty (0 bytes)");
      try {
         m.proto = proto::parseModel(bytes.data(), bytes.size());
      } catch (const proto::ParseError &e) {
         throw InputError("ONNX model '" + name + "' is not a valid ONNX file (truncated or corrupted?): " + e.what());
      }
      // the ONNX spec, before anything else happens (Schema.cxx)
      detail::checkModel(m.proto, name);
      for (const proto::OpsetId &o : m.proto.opsetImport)
         if (o.domain.empty() || o.domain == "ai.onnx")
            m.opset = o.version;
      readInitializers(m, name);
      readInputs(m, name);
      for (const auto &[key, value] : m.proto.metadata)
         m.metadata[key] = value;

      // plan at batch 1 (checks the whole graph) and, if batched, at 2 to find how outputs scale
      std::shared_ptr<const Plan> p1 = model->plan(1);
      m.steps1 = p1->steps.size();
      std::shared_ptr<const Plan> p2 = m.batched ? model->plan(2) : p1;
      if (m.batched) // a dimension that equals the batch by chance cannot at both 1 and 2
         m.mixing = !p2->mixing.empty()   ? p2->mixing
                    : !p1->mixing.empty() ? p1->mixing
                                          : batchSizeDependence(m, *p1, *p2);
      describeOutputs(m, *p1, *p2, name);
      return model;
   };
   // Every error of loading and planning names the model: errors below the checks (a planner's
   // std::out_of_range, say) become InputError with the model's name.
   try {
      return loadChecked();
   } catch (const tpcml::Error &) {
      throw;
   } catch (const std::bad_alloc &) {
      throw InputError("ONNX model '" + name + "' needs more memory than is available to load");
   } catch (const std::exception &e) {
      throw InputError("ONNX model '" + name + "' cannot be loaded: " + e.what());
   }
}

std::shared_ptr<const Plan> Model::plan(int64_t batch) const
{
   const int64_t key = m_impl->batched ? batch : 1;
   if (key < 1)
      throw UsageError("batch size must be >= 1, got " + std::to_string(batch));
   std::lock_guard<std::mutex> lock(m_impl->mutex);
   auto it = m_impl->plans.find(key);
   if (it != m_impl->plans.end())
      return it->second;
   if (m_impl->lastWhole && m_impl->lastWhole->batch == key)
      return m_impl->lastWhole;
   detail::Planner planner(*m_impl, key);
   std::shared_ptr<const Plan> p(planner.build());
   // a model that mixes events is planned for each whole batch it runs: keep only the latest
   if (!m_impl->mixing.empty() && key > 2)
      m_impl->lastWhole = p;
   else
      m_impl->plans[key] = p;
   return p;
}

namespace {
/// Refuses to plan a model that mixes events at a batch of n events when the plan's scratch
/// (extrapolated from batches 1 and 2) would exceed half the machine's physical memory.
void checkWholeBatch(const Model &m, int64_t n)
{
   const double a1 = double(m.plan(1)->arenaFloats), a2 = double(m.plan(2)->arenaFloats);
   const double bytes = (a1 + std::max(0.0, a2 - a1) * double(n - 1)) * sizeof(float);
   const double limit = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE)) / 2;
   if (limit > 0 && bytes > limit) {
      char text[256];
      std::snprintf(text, sizeof text, "%.2f GB of scratch memory, more than half this machine's memory (%.2f GB)",
                    bytes / 1e9, limit / 1e9);
      throw InputError("model '" + m.name() + "' mixes events (" + m.eventMixing() + "), so its " + std::to_string(n) +
                       " events must run as one batch, which needs " + text + "; give it fewer events per call");
   }
}
} // namespace

const std::string &Model::eventMixing() const
{
   return m_impl->mixing;
}

std::vector<int64_t> Model::outputShape(std::size_t j, int64_t nEvents) const
{
   const TensorInfo &t = m_impl->outputs.at(j);
   if (!m_impl->batched)
      return t.shape;
   if (m_impl->mixing.empty()) {
      std::vector<int64_t> s = {nEvents};
      if (!t.shape.empty() && t.shape[0] < 0)
         s.insert(s.end(), t.shape.begin() + 1, t.shape.end());
      else
         s.push_back(t.eventSize);
      return s;
   }
   if (nEvents < 1)
      return {0, t.eventSize};
   checkWholeBatch(*this, nEvents);
   std::shared_ptr<const Plan> p = plan(nEvents);
   return p->values[std::size_t(p->outputs.at(j))].shape;
}

const std::string &Model::name() const
{
   return m_impl->name;
}
const std::vector<TensorInfo> &Model::inputs() const
{
   return m_impl->inputs;
}
const std::vector<TensorInfo> &Model::outputs() const
{
   return m_impl->outputs;
}
bool Model::batched() const
{
   return m_impl->batched;
}
const std::string &Model::sha256() const
{
   return m_impl->sha256;
}
const std::map<std::string, std::string> &Model::metadata() const
{
   return m_impl->metadata;
}
std::string Model::metadataValue(const std::string &key, const std::string &fallback) const
{
   auto it = m_impl->metadata.find(key);
   return it == m_impl->metadata.end() ? fallback : it->second;
}
std::vector<std::string> Model::inputColumns() const
{
   return parseNameList(metadataValue("tpcml.inputs"));
}
std::size_t Model::nodeCount() const
{
   return m_impl->proto.graph.node.size();
}
std::size_t Model::stepCount() const
{
   return m_impl->steps1;
}
int64_t Model::opset() const
{
   return m_impl->opset;
}
std::string Model::isa()
{
   return kernels::table().isa;
}

std::vector<std::string> supportedOperators()
{
   std::vector<std::string> out;
   for (const auto &entry : detail::operatorTable())
      out.push_back(entry.first);
   return out;
}

// ------------------------------------------------------------------------ Session
struct Session::Scratch {
   struct Free {
      void operator()(float *p) const { std::free(p); }
   };
   std::unique_ptr<float, Free> arena;
   std::size_t capacity = 0;
   std::vector<float *> ptrs;
   std::vector<int> inputAliases; ///< aliases whose root is a graph input
   const Plan *bound = nullptr;
   std::shared_ptr<const Plan> recent[4];
   int next = 0;
   std::vector<float> single;
   std::vector<float *> singleOut;    ///< output pointers into `single`
   std::shared_ptr<const Plan> plan1; ///< the batch-1 plan of the single-event path
   int64_t chunk = 0;                 ///< events per plan run in run() (0: not chosen yet)
   std::vector<const float *> in;
   std::vector<float *> out;
   /// TPCML_ONNX_PROFILE set: thread CPU time per (op, node), printed when the session ends
   struct Timing {
      double us = 0;
      int64_t calls = 0;
      int64_t events = 0;
   };
   std::map<std::pair<std::string, std::string>, Timing> profile;
   int64_t profiledEvents = 0;
};

namespace {
bool profiling()
{
   static const bool on = [] {
      const char *v = std::getenv("TPCML_ONNX_PROFILE");
      return v && *v && std::strcmp(v, "0") != 0;
   }();
   return on;
}
double threadMicros()
{
   timespec ts{};
   clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
   return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) * 1e-3;
}
} // namespace

Session::Session(std::shared_ptr<const Model> model, int64_t maxBatch)
    : m_model(std::move(model)), m_maxBatch(maxBatch), m_scratch(std::make_unique<Scratch>())
{
   if (!m_model)
      throw UsageError("Session needs a model");
   if (maxBatch < 1)
      throw UsageError("maxBatch must be >= 1, got " + std::to_string(maxBatch));
}
Session::~Session()
{
   if (!m_scratch || m_scratch->profile.empty())
      return;
   // TPCML_ONNX_PROFILE: one table per session on stderr, the slowest steps first
   std::vector<std::pair<double, std::string>> rows;
   double total = 0;
   for (const auto &[key, t] : m_scratch->profile) {
      total += t.us;
      char line[512];
      std::snprintf(line, sizeof line, "%-18s %10.2f %9lld %12.3f  %s", key.first.c_str(), t.us / 1e3,
                    static_cast<long long>(t.calls), t.events ? t.us / double(t.events) : 0.0, key.second.c_str());
      rows.emplace_back(t.us, line);
   }
   std::sort(rows.rbegin(), rows.rend());
   std::fprintf(stderr, "tpcml ONNX profile of '%s' (thread CPU time, %lld events):\n%-18s %10s %9s %12s  %s\n",
                m_model->name().c_str(), static_cast<long long>(m_scratch->profiledEvents), "op", "total ms", "calls",
                "us/event", "node");
   for (const auto &r : rows)
      std::fprintf(stderr, "%s  (%.1f %%)\n", r.second.c_str(), total > 0 ? 100 * r.first / total : 0.0);
}
Session::Session(Session &&) noexcept = default;
Session &Session::operator=(Session &&) noexcept = default;

void Session::runPlan(const Plan &plan, const float *const *inputs, float *const *outputs)
{
   Scratch &s = *m_scratch;
   if (plan.arenaFloats > s.capacity) {
      const std::size_t bytes = (plan.arenaFloats * sizeof(float) + 63) / 64 * 64;
      float *p = static_cast<float *>(std::aligned_alloc(64, bytes));
      if (!p)
         throw Error("cannot allocate " + std::to_string(bytes) + " bytes of scratch for model '" + m_model->name() +
                     "'");
      s.arena.reset(p);
      s.capacity = plan.arenaFloats;
      s.bound = nullptr;
   }
   if (s.bound != &plan) {
      s.ptrs.assign(plan.values.size(), nullptr);
      s.inputAliases.clear();
      for (std::size_t v = 0; v < plan.values.size(); ++v) {
         const detail::Value &val = plan.values[v];
         if (val.kind == Kind::Runtime && val.offset >= 0)
            s.ptrs[v] = s.arena.get() + val.offset;
         else if (val.kind == Kind::Constant && val.type == DType::Float)
            s.ptrs[v] = const_cast<float *>(val.f->data());
      }
      for (std::size_t v = 0; v < plan.values.size(); ++v) {
         const detail::Value &val = plan.values[v];
         if (val.kind != Kind::Alias)
            continue;
         if (plan.values[std::size_t(val.root)].kind == Kind::Input)
            s.inputAliases.push_back(int(v));
         else
            s.ptrs[v] = s.ptrs[std::size_t(val.root)];
      }
      s.bound = &plan;
   }
   for (std::size_t k = 0; k < plan.inputs.size(); ++k)
      s.ptrs[std::size_t(plan.inputs[k])] = const_cast<float *>(inputs[k]);
   for (int v : s.inputAliases)
      s.ptrs[std::size_t(v)] = s.ptrs[std::size_t(plan.values[std::size_t(v)].root)];
   float *const *ptrs = s.ptrs.data();
   if (profiling()) {
      s.profiledEvents += plan.batch;
      for (std::size_t k = 0; k < plan.steps.size(); ++k) {
         const double t0 = threadMicros();
         plan.steps[k]->run(ptrs, s.arena.get() + plan.wsOffset[k]);
         Scratch::Timing &t = s.profile[{plan.steps[k]->op, plan.steps[k]->node}];
         t.us += threadMicros() - t0;
         t.calls += 1;
         t.events += plan.batch;
      }
   } else {
      for (std::size_t k = 0; k < plan.steps.size(); ++k)
         plan.steps[k]->run(ptrs, s.arena.get() + plan.wsOffset[k]);
   }
   for (std::size_t j = 0; j < plan.outputs.size(); ++j) {
      const detail::Value &val = plan.values[std::size_t(plan.outputs[j])];
      const std::size_t n = std::size_t(detail::numel(val.shape));
      if (n)
         std::memcpy(outputs[j], s.ptrs[std::size_t(plan.outputs[j])], n * sizeof(float));
   }
}

void Session::run(const float *const *inputs, float *const *outputs, int64_t nEvents)
{
   if (nEvents < 0)
      throw UsageError("number of events must be >= 0, got " + std::to_string(nEvents));
   if (nEvents == 0)
      return;
   const Model &m = *m_model;
   const std::size_t nIn = m.inputs().size(), nOut = m.outputs().size();
   if ((nIn && !inputs) || (nOut && !outputs))
      throw UsageError("model '" + m.name() + "': null input or output array");
   for (std::size_t k = 0; k < nIn; ++k)
      if (!inputs[k])
         throw UsageError("model '" + m.name() + "': input " + std::to_string(k) + " ('" + m.inputs()[k].name +
                          "') is a null pointer");
   for (std::size_t k = 0; k < nOut; ++k)
      if (!outputs[k])
         throw UsageError("model '" + m.name() + "': output " + std::to_string(k) + " ('" + m.outputs()[k].name +
                          "') is a null pointer");
   Scratch &s = *m_scratch;
   s.in.resize(nIn);
   s.out.resize(nOut);
   if (m.batched() && s.chunk == 0) {
      // Events per plan run: at most maxBatch, and few enough that the intermediate tensors of
      // one run (the plan's arena) stay within kArenaBudget, the share of the last-level cache a
      // core can count on -- beyond it, layer after layer streams from memory (measured:
      // EfficientNet-B0 at 128 x 128 runs 17 % faster in runs of 2 events than of 16).
      constexpr double kArenaBudget = 8.0 * 1024 * 1024;
      const double perEvent = double(m.plan(1)->arenaFloats) * sizeof(float);
      const int64_t fit = perEvent > 0 ? int64_t(kArenaBudget / perEvent) : m_maxBatch;
      s.chunk = std::max<int64_t>(1, std::min(m_maxBatch, fit));
   }
   if (m.batched() && !m.eventMixing().empty()) {
      // The graph mixes events: chunks would give other numbers (a softmax over the batch...),
      // so all nEvents run as one batch, whatever maxBatch says.
      std::shared_ptr<const Plan> whole = nullptr;
      for (const auto &p : s.recent)
         if (p && p->batch == nEvents)
            whole = p;
      if (!whole) { // checked once per batch size; held by the session: s.bound never points at a freed plan
         checkWholeBatch(m, nEvents);
         whole = m.plan(nEvents);
         for (std::size_t j = 0; j < nOut; ++j) {
            const int64_t n = detail::numel(whole->values[std::size_t(whole->outputs[j])].shape);
            if (n != nEvents * m.outputs()[j].eventSize)
               throw InputError("model '" + m.name() + "' mixes events (" + m.eventMixing() + ") and its output '" +
                                m.outputs()[j].name + "' holds " + std::to_string(n) + " values for " +
                                std::to_string(nEvents) + " events, not " + std::to_string(m.outputs()[j].eventSize) +
                                " per event");
         }
         s.recent[s.next] = whole; // kept only once its checks passed
         s.next = (s.next + 1) % 4;
      }
      runPlan(*whole, inputs, outputs);
      return;
   }
   const int64_t chunk = m.batched() ? s.chunk : 1;
   for (int64_t first = 0; first < nEvents; first += chunk) {
      const int64_t b = std::min(chunk, nEvents - first);
      const Plan *plan = nullptr;
      for (const auto &p : s.recent)
         if (p && p->batch == (m.batched() ? b : 1))
            plan = p.get();
      if (!plan) {
         s.recent[s.next] = m.plan(b);
         plan = s.recent[s.next].get();
         s.next = (s.next + 1) % 4;
      }
      for (std::size_t k = 0; k < nIn; ++k)
         s.in[k] = inputs[k] + first * m.inputs()[k].eventSize;
      for (std::size_t k = 0; k < nOut; ++k)
         s.out[k] = outputs[k] + first * m.outputs()[k].eventSize;
      runPlan(*plan, s.in.data(), s.out.data());
   }
}

const std::vector<float> &Session::evaluate(const float *event)
{
   Scratch &s = *m_scratch;
   if (!s.plan1) { // first call: checks, output layout and the plan, once
      const Model &m = *m_model;
      if (m.batched() && !m.eventMixing().empty())
         throw InputError("model '" + m.name() + "' mixes events (" + m.eventMixing() +
                          "): its outputs for one event depend on the other events of the batch, so it cannot be "
                          "evaluated one event at a time (score(), evaluate(), per-event RDataFrame scoring); run it "
                          "on the whole batch with Session::run (Python: OnnxModel.run)");
      if (m.inputs().size() != 1)
         throw UsageError("model '" + m.name() + "' has " + std::to_string(m.inputs().size()) +
                          " inputs; evaluate()/score() take single-input models (use run())");
      std::size_t total = 0;
      for (const TensorInfo &o : m.outputs())
         total += std::size_t(o.eventSize);
      s.single.assign(total, 0.f);
      s.singleOut.clear();
      std::size_t at = 0;
      for (const TensorInfo &o : m.outputs()) {
         s.singleOut.push_back(s.single.data() + at);
         at += std::size_t(o.eventSize);
      }
      s.plan1 = m.plan(1);
   }
   if (!event)
      throw UsageError("model '" + m_model->name() + "': null event pointer");
   runPlan(*s.plan1, &event, s.singleOut.data());
   return s.single;
}

float Session::score(const float *event)
{
   const std::vector<float> &v = evaluate(event);
   return v.empty() ? 0.f : v[0];
}

} // namespace tpcml::onnx
